/// The request body for a group of alerts, in an endpoint's format.
///
/// Works from the alerts' stored JSON (`Alert.json()`, as kept in the outbox), so that what a
/// receiver gets after a restart is byte for byte what it would have got before.
public enum WebhookPayload {
    /// Plain: one alert is its JSON object as is; several are `{"alerts":[…]}` in the given order.
    /// Slack: see `WebhookSlackMessage`.
    ///
    /// Throws only for the Slack format, when a stored text is not an alert's JSON.
    public static func body(alerts: [String], format: WebhookEndpoint.Format) throws -> [UInt8] {
        switch format {
        case .plain:
            if alerts.count == 1 { return Array(alerts[0].utf8) }
            return Array(("{\"alerts\":[" + alerts.joined(separator: ",") + "]}").utf8)
        case .slack:
            return Array(try WebhookSlackMessage.json(alerts: alerts).utf8)
        }
    }
}
