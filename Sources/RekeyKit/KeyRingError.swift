/// Why a key ring could not be used. rekey refuses to start rather than run on a doubtful ring.
public struct KeyRingError: Error, CustomStringConvertible, Sendable {
    public enum Problem: Sendable, Equatable {
        case missing
        case looseMode(Int)
        case malformed(String)
        case unreadable(String)
        case unwritable(String)
    }

    public let path: String
    public let problem: Problem

    public var description: String {
        switch problem {
        case .missing:
            "no key ring at \(path); run `rekey init` to create one"
        case .looseMode(let mode):
            "key ring \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod 600 \(path))"
        case .malformed(let why):
            "key ring \(path) is malformed: \(why)"
        case .unreadable(let why):
            "key ring \(path) cannot be read: \(why)"
        case .unwritable(let why):
            "key ring \(path) cannot be written: \(why)"
        }
    }
}
