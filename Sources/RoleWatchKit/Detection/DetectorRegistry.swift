/// Every detector, by the `detector:` name rule files use. An explicit, sorted list: adding a
/// detector means adding its file and one line here (a test checks both).
public enum DetectorRegistry {
    public static var all: [any Detector.Type] {
        [
            AssumeBurstDetector.self,
            AssumeDeniedSprayDetector.self,
            ExternalIdReuseDetector.self,
            FirstSeenCallerDetector.self,
            FirstSeenNetworkDetector.self,
            FirstSeenNoExternalIdDetector.self,
            FirstSeenRegionDetector.self,
            FirstSeenSessionNameDetector.self,
            FirstSeenUserAgentDetector.self,
            HumanOperatorDetector.self,
            MissingExternalIdDetector.self,
            MissingSessionPolicyDetector.self,
            NonAWSIPDetector.self,
            OddSessionNameDetector.self,
            RegionDriftDetector.self,
            SessionMultiLocationDetector.self,
            UnexpectedCallerDetector.self,
            UnlistedIPDetector.self,
        ]
    }

    public static func detector(named id: String) -> (any Detector.Type)? {
        all.first { $0.id == id }
    }
}
