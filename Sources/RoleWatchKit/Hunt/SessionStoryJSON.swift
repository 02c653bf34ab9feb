extension SessionStory {
    /// The story as one NDJSON line (`rolewatch hunt --format ndjson`), keys in a fixed order
    /// so that the same archive always gives the same bytes. docs/fields.md lists the fields.
    public func json() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("accessKeyId", accessKeyId)
        w.field("account", account)
        w.field("role", role)
        w.field("principal", principal)
        w.field("sessionName", sessionName)
        w.field("matchedBy", strings: rootReasons.names)
        w.field("parentAccessKeyId", parent)
        w.field("children", strings: children)
        w.key("issued")
        if let issuance {
            w.beginObject()
            w.field("time", ISO8601.format(issuance.time))
            w.field("by", issuance.by)
            w.field("byAccessKeyId", issuance.byAccessKeyId)
            w.field("action", issuance.action)
            w.field("roleArn", issuance.roleArn)
            w.field("sessionName", issuance.sessionName)
            w.field("sourceIPAddress", issuance.sourceIPAddress)
            w.field("userAgent", issuance.userAgent)
            w.field("region", issuance.region)
            w.key("externalId")
            w.bool(issuance.externalId)
            w.key("sessionPolicy")
            w.bool(issuance.sessionPolicy)
            w.key("durationSeconds")
            if let seconds = issuance.durationSeconds { w.number(seconds) } else { w.null() }
            w.field("eventIDs", strings: issuance.eventIDs)
            w.endObject()
        } else {
            w.null()
        }
        w.key("calls")
        w.beginObject()
        for (name, value) in [
            ("count", calls), ("records", records), ("reads", reads), ("writes", writes), ("errors", errors),
        ] {
            w.key(name)
            w.number(value)
        }
        w.field("first", first.map(ISO8601.format))
        w.field("last", last.map(ISO8601.format))
        for (name, counts) in [
            ("services", services), ("actions", actions), ("errorCodes", errorCodes), ("regions", regions),
            ("sourceIPAddresses", sourceIPAddresses), ("userAgents", userAgents),
        ] {
            Self.write(counts, as: name, to: &w)
        }
        w.field("eventIDs", strings: eventIDs)
        w.key("eventIDsNotListed")
        w.number(unlistedEventIDs)
        w.endObject()
        w.key("resources")
        w.beginArray()
        for (resource, uses) in listedResources {
            w.beginObject()
            w.field("kind", resource.kind)
            w.field("name", resource.name)
            w.key("calls")
            w.number(uses)
            w.endObject()
        }
        w.endArray()
        w.key("resourceUsesNotListed")
        w.number(unlistedResourceUses)
        w.key("alerts")
        w.beginArray()
        for alert in alerts {
            w.beginObject()
            w.field("id", alert.id)
            w.field("rule", alert.rule)
            w.field("severity", alert.severity.rawValue)
            w.field("title", alert.title)
            w.field("time", ISO8601.format(alert.time))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text
    }

    /// The session name: from the issuing call, else the last part of the assumed-role ARN.
    public var sessionName: String? {
        issuance?.sessionName ?? principal.flatMap { ARN.isAssumedRole($0) ? ARN.lastComponent($0) : nil }
    }

    /// `{"value": count, …}` largest first, with what did not fit under `"(not listed)"`.
    private static func write(_ counts: CappedCounts, as name: String, to w: inout JSONWriter) {
        w.key(name)
        w.beginObject()
        for (value, count) in counts.ranked {
            w.key(value)
            w.number(count)
        }
        if counts.unlisted > 0 {
            w.key("(not listed)")
            w.number(counts.unlisted)
        }
        w.endObject()
    }
}
