import Foundation

/// The roles and managed policies of one or more IAM exports: the JSON of
/// `aws iam get-account-authorization-details` (`RoleDetailList`, `Policies`) and of
/// `aws iam get-role` (`{"Role": {...}}`).
///
/// Several files are one export: a paginated `get-account-authorization-details` names managed
/// policies on one page that roles on another attach, and a `get-role` adds the
/// `MaxSessionDuration` the former leaves out. Files are read in path order, so the result does
/// not depend on the order they were given in; a role that appears in two files is taken from
/// the first, with `MaxSessionDuration` and `RoleLastUsed` filled in from a later one when the
/// first lacks them.
public struct IAMExport: Sendable {
    /// Sorted by ARN.
    public private(set) var roles: [IAMRole] = []
    /// Managed policies by ARN, with their default version's document.
    var policies: [String: ManagedPolicy] = [:]
    /// Where each role is in `roles`, by ARN, while files are added.
    private var roleIndex: [String: Int] = [:]
    /// What could not be read; the rest of each file is still used.
    public private(set) var problems: [AuditProblem] = []

    public init() {}

    /// Reads every file; a file that cannot be read or parsed is a problem, not an error.
    public static func read(paths: [String]) -> IAMExport {
        var export = IAMExport()
        for path in Set(paths).sorted() {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                export.problems.append(AuditProblem(file: path, role: nil, message: "cannot read the file"))
                continue
            }
            export.add(data, file: path)
        }
        export.roles.sort { $0.arn < $1.arn }
        export.roleIndex = Dictionary(uniqueKeysWithValues: export.roles.enumerated().map { ($1.arn, $0) })
        return export
    }

    /// Adds one file's roles and policies.
    ///
    /// The file is walked with the trail decoder's reader, and each role and policy is handed
    /// to Foundation on its own: parsing a whole 30 MB export at once took eleven times its size
    /// in memory; this way the audit holds the file and what it keeps of each role. A file that
    /// stops being JSON partway keeps what came before, and says where it stopped.
    mutating func add(_ data: Data, file: String) {
        var found = false
        let damage: RecordDecodingError? = data.withUnsafeBytes { bytes in
            var reader = JSONReader(bytes)
            do throws(RecordDecodingError) {
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "{") else { return RecordDecodingError(offset: 0, reason: "") }
                guard try reader.beginObject() else { return nil }
                repeat {
                    let key = try reader.readKey()
                    switch key {
                    case "RoleDetailList", "Policies":
                        found = true
                        let isRoles = "RoleDetailList" ~= key
                        guard try reader.beginArray() else { continue }
                        repeat {
                            let item = try Self.value(&reader, in: bytes)
                            if isRoles { addRole(item, file: file) } else { addPolicy(item, file: file) }
                        } while try reader.nextElement()
                    case "Role":
                        found = true
                        addRole(try Self.value(&reader, in: bytes), file: file)
                    default:
                        try reader.skipValue()
                    }
                } while try reader.nextMember()
                return nil
            } catch {
                return error
            }
        }
        if let damage, damage.reason.isEmpty || !found {
            problems.append(
                AuditProblem(
                    file: file, role: nil,
                    message:
                        "not a JSON object (expected the output of aws iam get-account-authorization-details or get-role)"
                        + (damage.reason.isEmpty ? "" : ": \(damage)")))
        } else if let damage {
            problems.append(
                AuditProblem(
                    file: file, role: nil,
                    message: "not valid JSON: \(damage); the roles and policies before it are audited"))
        } else if !found {
            problems.append(
                AuditProblem(file: file, role: nil, message: "no RoleDetailList, Role or Policies: not an IAM export"))
        }
    }

    /// The next value, parsed by Foundation on its own (nil if Foundation refuses it).
    private static func value(_ reader: inout JSONReader, in bytes: UnsafeRawBufferPointer) throws(RecordDecodingError)
        -> Any?
    {
        reader.skipWhitespace()
        let start = reader.offset
        try reader.skipValue()
        return try? JSONSerialization.jsonObject(
            with: Data(bytes[start..<reader.offset]), options: [.fragmentsAllowed])
    }

    private mutating func addPolicy(_ item: Any?, file: String) {
        guard let object = item as? [String: Any], let arn = object["Arn"] as? String else {
            problems.append(AuditProblem(file: file, role: nil, message: "a Policies entry has no Arn"))
            return
        }
        guard policies[arn] == nil else { return }
        let name = object["PolicyName"] as? String ?? arn
        var document: PolicyDocument?
        let versions = (object["PolicyVersionList"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        if let version = versions.first(where: { ($0["IsDefaultVersion"] as? Bool) == true }),
            let raw = version["Document"]
        {
            do {
                document = try PolicyDocument.parse(raw)
            } catch {
                problems.append(AuditProblem(file: file, role: nil, message: "managed policy \(name): \(error)"))
            }
        }
        policies[arn] = ManagedPolicy(arn: arn, name: name, document: document)
    }

    private mutating func addRole(_ item: Any?, file: String) {
        guard let object = item as? [String: Any], let arn = object["Arn"] as? String,
            let name = object["RoleName"] as? String, let account = IAMRole.account(of: arn)
        else {
            problems.append(
                AuditProblem(file: file, role: nil, message: "a role entry has no RoleName or no role Arn"))
            return
        }
        let problem = { (message: String) in
            self.problems.append(AuditProblem(file: file, role: name, message: message))
        }
        if let index = roleIndex[arn] {
            var later = IAMRole(name: name, arn: arn, account: account, file: file)
            later.readUse(object, problem: problem)
            if roles[index].maxSessionDuration == nil { roles[index].maxSessionDuration = later.maxSessionDuration }
            if roles[index].lastUsed == .notRecorded { roles[index].lastUsed = later.lastUsed }
            return
        }
        var role = IAMRole(name: name, arn: arn, account: account, file: file)
        role.read(object, problem: problem)
        roleIndex[arn] = roles.count
        roles.append(role)
    }
}

/// A managed policy of the export and its default version's document (nil when the export
/// does not hold it or it could not be read).
struct ManagedPolicy: Sendable {
    var arn: String
    var name: String
    var document: PolicyDocument?

    /// AWS managed policies live in the reserved `aws` account: `arn:aws:iam::aws:policy/...`.
    static func isAWSManaged(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 && parts[2] == "iam" && parts[4] == "aws" && parts[5].hasPrefix("policy/")
    }
}

/// One role of the export.
public struct IAMRole: Sendable {
    public var name: String
    public var arn: String
    public var account: String
    /// The file it was read from, for messages.
    public var file: String
    var createDate: EventTime?
    /// `AssumeRolePolicyDocument`; nil when missing or unreadable (a problem says which).
    var trust: PolicyDocument?
    var inlinePolicies: [(name: String, document: PolicyDocument)] = []
    var attachedPolicies: [(name: String, arn: String)] = []
    /// `PermissionsBoundary.PermissionsBoundaryArn`: the managed policy that caps what the
    /// permission policies can grant.
    var boundaryArn: String?
    /// Seconds; nil when the export does not say (`get-account-authorization-details` does not).
    var maxSessionDuration: Int?
    var lastUsed: LastUse = .notRecorded

    enum LastUse: Sendable, Equatable {
        /// The export has no `RoleLastUsed`.
        case notRecorded
        /// `RoleLastUsed` without `LastUsedDate`: not used within IAM's tracking period.
        case never
        case at(EventTime)
    }

    init(name: String, arn: String, account: String, file: String) {
        self.name = name
        self.arn = arn
        self.account = account
        self.file = file
    }

    /// `arn:PARTITION:iam::ACCOUNT:role/...` → ACCOUNT.
    static func account(of arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[5].hasPrefix("role/") else { return nil }
        return String(parts[4])
    }

    mutating func read(_ object: [String: Any], problem: (String) -> Void) {
        createDate = (object["CreateDate"] as? String).flatMap(ISO8601.parse)
        if let raw = object["AssumeRolePolicyDocument"] {
            do {
                trust = try PolicyDocument.parse(raw)
            } catch {
                problem("trust policy: \(error)")
            }
        } else {
            problem("no AssumeRolePolicyDocument: the role's trust cannot be audited")
        }
        for item in object["RolePolicyList"] as? [Any] ?? [] {
            guard let entry = item as? [String: Any], let policyName = entry["PolicyName"] as? String,
                let raw = entry["PolicyDocument"]
            else {
                problem("an inline policy has no PolicyName or PolicyDocument")
                continue
            }
            do {
                inlinePolicies.append((policyName, try PolicyDocument.parse(raw)))
            } catch {
                problem("inline policy \(policyName): \(error)")
            }
        }
        for item in object["AttachedManagedPolicies"] as? [Any] ?? [] {
            guard let entry = item as? [String: Any], let policyArn = entry["PolicyArn"] as? String else {
                problem("an attached managed policy has no PolicyArn")
                continue
            }
            attachedPolicies.append((entry["PolicyName"] as? String ?? policyArn, policyArn))
        }
        if let boundary = object["PermissionsBoundary"] {
            if let arn = (boundary as? [String: Any])?["PermissionsBoundaryArn"] as? String {
                boundaryArn = arn
            } else {
                problem("PermissionsBoundary has no PermissionsBoundaryArn: the boundary is not taken into account")
            }
        }
        readUse(object, problem: problem)
    }

    /// `MaxSessionDuration` and `RoleLastUsed`: what a later file may add to a role.
    mutating func readUse(_ object: [String: Any], problem: (String) -> Void) {
        maxSessionDuration = (object["MaxSessionDuration"] as? NSNumber)?.intValue
        if let used = object["RoleLastUsed"] as? [String: Any] {
            if let text = used["LastUsedDate"] as? String {
                if let time = ISO8601.parse(text) {
                    lastUsed = .at(time)
                } else {
                    problem("RoleLastUsed.LastUsedDate '\(text)' is not a date")
                }
            } else {
                lastUsed = .never
            }
        }
    }
}

/// Something in an export that could not be read or decided, with where it is.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var role: String?
    public var message: String

    public var description: String {
        if let role { return "\(file): role \(role): \(message)" }
        return "\(file): \(message)"
    }
}
