import Foundation

/// One `allowed_cidrs_file` entry: a file of addresses the backend calls from, in one of the
/// formats vendors publish them in, and the part of it that applies.
///
/// - `plain`: one CIDR or address per line; `#` starts a comment; blank lines are ignored.
/// - `aws`: AWS's `ip-ranges.json` (`prefixes[].ip_prefix`, `ipv6_prefixes[].ipv6_prefix`),
///   keeping the entries whose `service` and `region` are among `service:` and `region:` (each
///   a name or a list; absent: any). A vendor whose backend runs on EC2 in two regions lists
///   `service: EC2, region: [us-east-1, eu-west-1]` rather than copying prefixes by hand.
/// - `datadog`: a vendor's per-product ranges, as Datadog publishes them
///   (`{"webhooks": {"prefixes_ipv4": [...], "prefixes_ipv6": [...]}, ...}`), keeping the
///   products named by `product:` (a name or a list; absent: every product).
///
/// Without `format:` the format is found from the file: a JSON object with `prefixes` or
/// `ipv6_prefixes` is `aws`, another JSON object `datadog`, anything else `plain`.
/// A file that lists no prefix after filtering is refused: an allow-list that silently became
/// empty would turn every call into an alert, or (were empty to mean "no list") into none.
public struct VendorIPList: Sendable, Equatable, CustomStringConvertible {
    public enum Format: String, Sendable, CaseIterable {
        case plain, aws, datadog
    }

    /// The file, resolved against the config file's folder.
    public var path: String
    /// As written in the config, for messages.
    public var written: String
    public var format: Format?
    public var services: [String] = []
    public var regions: [String] = []
    public var products: [String] = []

    public var description: String { written }

    /// Vendor files are small (AWS's, the largest, is under 2 MB); anything much larger is not one.
    static let maxFileBytes = 64 << 20

    /// Reads `allowed_cidrs_file` of `mapping` (a path, or a list of paths and entries with
    /// `path`, `format`, `service`, `region`, `product`), resolving paths against `folder`.
    static func entries(_ mapping: inout YAMLMapping, folder: String) throws(ConfigError) -> [VendorIPList] {
        let key = "allowed_cidrs_file"
        guard let node = mapping.node(key) else { return [] }
        let items = node.sequence.map(Array.init) ?? [node]
        var lists: [VendorIPList] = []
        for item in items {
            let line = item.mark?.line
            var list: VendorIPList
            if let path = item.scalar?.string {
                list = VendorIPList(path: path, written: path)
            } else {
                var entry = try YAMLMapping(item, file: mapping.file, what: "each entry of '\(key)'")
                let path = try entry.requiredString("path")
                list = VendorIPList(path: path, written: path)
                if let format = try entry.string("format") {
                    guard let known = Format(rawValue: format) else {
                        throw entry.error(
                            "format",
                            "'\(format)' is not one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    list.format = known
                }
                list.services = try entry.strings("service").map(\.value)
                list.regions = try entry.strings("region").map(\.value)
                list.products = try entry.strings("product").map(\.value)
                try entry.finish()
                if let format = list.format {
                    if format != .aws, !list.services.isEmpty || !list.regions.isEmpty {
                        throw entry.error(list.services.isEmpty ? "region" : "service", "applies to format aws only")
                    }
                    if format != .datadog, !list.products.isEmpty {
                        throw entry.error("product", "applies to format datadog only")
                    }
                }
            }
            guard !list.path.isEmpty else {
                throw ConfigError(file: mapping.file, line: line, problem: "\(key): expected the path of a file")
            }
            if !list.path.hasPrefix("/"), !folder.isEmpty { list.path = folder + "/" + list.path }
            lists.append(list)
        }
        return lists
    }

    /// The file's bytes, or why they cannot be had (as a config error about the file).
    func read() throws(ConfigError) -> [UInt8] {
        do {
            return try SmallFile.contents(of: path, limit: Self.maxFileBytes)
        } catch {
            throw ConfigError(file: path, line: nil, problem: "cannot read the allowed_cidrs_file: \(error)")
        }
    }

    /// The prefixes `bytes` lists, filtered as the entry says; every problem names the file and,
    /// when it can be found, the line.
    func prefixes(in bytes: [UInt8]) throws(ConfigError) -> [CIDR] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, problem: "not UTF-8 text")
        }
        let looksJSON = text.first(where: { !$0.isWhitespace }) == "{"
        var json: [String: Any] = [:]
        if looksJSON || (format ?? .plain) != .plain {
            do {
                guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    throw ConfigError(file: path, line: 1, problem: "expected a JSON object")
                }
                json = object
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(
                    file: path, line: Self.line(of: error), problem: "not valid JSON: \(Self.explain(error))")
            }
        }
        let found =
            format ?? (!looksJSON ? .plain : json["prefixes"] != nil || json["ipv6_prefixes"] != nil ? .aws : .datadog)
        if found != .aws, !services.isEmpty || !regions.isEmpty {
            throw ConfigError(
                file: path, line: nil,
                problem: "service and region apply to AWS's ip-ranges format, and this file is \(found.rawValue)")
        }
        if found != .datadog, !products.isEmpty {
            throw ConfigError(
                file: path, line: nil,
                problem: "product applies to a vendor's per-product JSON ranges, and this file is \(found.rawValue)")
        }
        let result: [CIDR]
        switch found {
        case .plain: result = try plain(text)
        case .aws: result = try aws(json, text: text)
        case .datadog: result = try datadog(json, text: text)
        }
        guard !result.isEmpty else {
            throw ConfigError(
                file: path, line: nil, problem: "lists no prefix\(filterText): an empty allow-list is refused")
        }
        return Array(Set(result)).sorted { $0.description < $1.description }
    }

    private var filterText: String {
        let parts =
            (services.isEmpty ? [] : ["service " + services.joined(separator: "/")])
            + (regions.isEmpty ? [] : ["region " + regions.joined(separator: "/")])
            + (products.isEmpty ? [] : ["product " + products.joined(separator: "/")])
        return parts.isEmpty ? "" : " for " + parts.joined(separator: ", ")
    }

    private func plain(_ text: String) throws(ConfigError) -> [CIDR] {
        var result: [CIDR] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let entry = rawLine.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            result.append(try cidr(entry, line: index + 1))
        }
        return result
    }

    private func aws(_ json: [String: Any], text: String) throws(ConfigError) -> [CIDR] {
        var result: [CIDR] = []
        var seenServices: Set<String> = []
        for (list, field) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
            guard let value = json[list] else { continue }
            guard let entries = value as? [[String: Any]] else {
                throw ConfigError(
                    file: path, line: Self.line(of: "\"\(list)\"", in: text),
                    problem: "\(list): expected a list of objects")
            }
            for entry in entries {
                guard let prefix = entry[field] as? String else {
                    throw ConfigError(
                        file: path, line: Self.line(of: "\"\(list)\"", in: text),
                        problem: "\(list): an entry has no \(field)")
                }
                let service = entry["service"] as? String ?? ""
                seenServices.insert(service)
                guard services.isEmpty || services.contains(service),
                    regions.isEmpty || regions.contains(entry["region"] as? String ?? "")
                else { continue }
                result.append(try cidr(prefix, line: Self.line(of: "\"\(prefix)\"", in: text)))
            }
        }
        if let unknown = services.first(where: { !seenServices.contains($0) }) {
            throw ConfigError(
                file: path, line: nil,
                problem:
                    "no entry of service '\(unknown)' (services here: \(seenServices.sorted().joined(separator: ", ")))"
            )
        }
        return result
    }

    private func datadog(_ json: [String: Any], text: String) throws(ConfigError) -> [CIDR] {
        let known = json.filter { $0.value is [String: Any] }.keys.sorted()
        if let unknown = products.first(where: { !known.contains($0) }) {
            throw ConfigError(
                file: path, line: nil,
                problem: "no product '\(unknown)' (products here: \(known.joined(separator: ", ")))")
        }
        var result: [CIDR] = []
        for product in products.isEmpty ? known : products {
            guard let ranges = json[product] as? [String: Any] else { continue }
            for field in ["prefixes_ipv4", "prefixes_ipv6"] {
                guard let value = ranges[field] else { continue }
                guard let prefixes = value as? [String] else {
                    throw ConfigError(
                        file: path, line: Self.line(of: "\"\(field)\"", in: text),
                        problem: "\(product).\(field): expected a list of strings")
                }
                for prefix in prefixes {
                    result.append(try cidr(prefix, line: Self.line(of: "\"\(prefix)\"", in: text)))
                }
            }
        }
        return result
    }

    /// A prefix as an allow-list takes it: host bits set are refused, as in `allowed_cidrs`.
    private func cidr(_ text: String, line: Int?) throws(ConfigError) -> CIDR {
        switch CIDR.parse(text) {
        case .success(let cidr):
            guard !cidr.hadHostBits else {
                throw ConfigError(
                    file: path, line: line, problem: "'\(text)' has host bits set; write \(cidr) or the single address")
            }
            return cidr
        case .failure(let error):
            throw ConfigError(file: path, line: line, problem: error.description)
        }
    }

    /// The line of `needle`'s first occurrence, for an error about a value of a JSON file.
    static func line(of needle: String, in text: String) -> Int? {
        guard let range = text.range(of: needle) else { return nil }
        return text[..<range.lowerBound].reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }

    /// The line Foundation's JSON parser gives for a syntax error, when it gives one.
    static func line(of error: any Error) -> Int? {
        let text = explain(error)
        guard let range = text.range(of: "line ") else { return nil }
        return Int(text[range.upperBound...].prefix(while: \.isNumber))
    }

    static func explain(_ error: any Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}
