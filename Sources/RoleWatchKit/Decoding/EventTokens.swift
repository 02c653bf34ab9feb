/// The fields of one record that `CloudTrailEvent` keeps, as the decoder found them: where each
/// string lies in the record's buffer, not yet a String.
///
/// Why: a scan with a site config drops most records (`WatchList`) on a few of these fields.
/// Building the other Strings first, some twenty allocations per record, only to free them, was
/// a sixth of a decoding thread on an archive of many sessions. The Strings are built by `event`,
/// for the records that are kept. A token is valid only while the buffer it points into is.
struct EventTokens {
    var eventID: StringToken?
    var eventTime: EventTime?
    var eventName: StringToken?
    var eventSource: StringToken?
    var awsRegion: StringToken?
    var sourceIPAddress: StringToken?
    var userAgent: StringToken?
    var errorCode: StringToken?
    var recipientAccountId: StringToken?
    var sharedEventID: StringToken?
    var vpcEndpointId: StringToken?
    var sessionCredentialFromConsole = false
    var userIdentity = IdentityTokens()
    var requestParameters = RequestTokens()
    var responseElements = ResponseTokens()

    /// The event, its Strings built from the buffer.
    var event: CloudTrailEvent { event(sharing: nil) }

    /// The event, with the values records repeat taken from `repeated` when it has them.
    func event(sharing repeated: RepeatedStrings?) -> CloudTrailEvent {
        func shared(_ token: StringToken?) -> String? {
            guard let token else { return nil }
            return repeated?.string(token) ?? token.string
        }
        var event = CloudTrailEvent()
        event.eventID = eventID?.string
        event.eventTime = eventTime
        event.eventName = shared(eventName)
        event.eventSource = shared(eventSource)
        event.awsRegion = awsRegion?.string
        event.sourceIPAddress = sourceIPAddress?.string
        event.userAgent = shared(userAgent)
        event.errorCode = shared(errorCode)
        event.recipientAccountId = recipientAccountId?.string
        event.sharedEventID = sharedEventID?.string
        event.vpcEndpointId = shared(vpcEndpointId)
        event.sessionCredentialFromConsole = sessionCredentialFromConsole
        event.userIdentity = userIdentity.identity(sharing: repeated)
        event.requestParameters = requestParameters.parameters(sharing: repeated)
        event.responseElements = responseElements.elements
        return event
    }

    /// `CloudTrailEvent.isAssumeRoleCall`, on the tokens.
    var isAssumeRoleCall: Bool {
        guard let eventName, eventName.hasPrefix("AssumeRole") else { return false }
        return eventSource.map { "sts.amazonaws.com" ~= $0 } ?? true
    }
}

/// `userIdentity`, as tokens (see `UserIdentity`).
struct IdentityTokens {
    var type: StringToken?
    var arn: StringToken?
    var principalId: StringToken?
    var accountId: StringToken?
    var accessKeyId: StringToken?
    var invokedBy: StringToken?
    var sessionIssuerArn: StringToken?
    var sessionIssuerType: StringToken?
    var sessionCreationDate: StringToken?
    var mfaAuthenticated = false

    func identity(sharing repeated: RepeatedStrings?) -> UserIdentity {
        var identity = UserIdentity()
        identity.type = type?.string
        identity.arn = arn?.string
        identity.principalId = principalId?.string
        identity.accountId = accountId?.string
        identity.accessKeyId = accessKeyId?.string
        identity.invokedBy = invokedBy.map { repeated?.string($0) ?? $0.string }
        identity.sessionIssuerArn = sessionIssuerArn.map { repeated?.string($0) ?? $0.string }
        identity.sessionIssuerType = sessionIssuerType?.string
        identity.sessionCreationDate = sessionCreationDate?.string
        identity.mfaAuthenticated = mfaAuthenticated
        return identity
    }
}

/// `requestParameters`, as tokens (see `RequestParameters`).
struct RequestTokens {
    var roleArn: StringToken?
    var roleSessionName: StringToken?
    var externalId: StringToken?
    var durationSeconds: Int?
    var hasPolicy = false
    var hasPolicyArns = false
    var sourceIdentity: StringToken?

    func parameters(sharing repeated: RepeatedStrings?) -> RequestParameters {
        var parameters = RequestParameters()
        parameters.roleArn = roleArn.map { repeated?.string($0) ?? $0.string }
        parameters.roleSessionName = roleSessionName?.string
        parameters.externalId = externalId?.string
        parameters.durationSeconds = durationSeconds
        parameters.hasPolicy = hasPolicy
        parameters.hasPolicyArns = hasPolicyArns
        parameters.sourceIdentity = sourceIdentity?.string
        return parameters
    }
}

/// `responseElements`, as tokens (see `ResponseElements`).
struct ResponseTokens {
    var credentialsAccessKeyId: StringToken?
    var assumedRoleUserArn: StringToken?

    var elements: ResponseElements {
        var elements = ResponseElements()
        elements.credentialsAccessKeyId = credentialsAccessKeyId?.string
        elements.assumedRoleUserArn = assumedRoleUserArn?.string
        return elements
    }
}
