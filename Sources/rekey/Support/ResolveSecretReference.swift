import Foundation
import RekeyKit

/// Reads `env:NAME` and `file:PATH` secret references; `store:` ones are already sealed in the store.
func resolveSecretReference(_ reference: SecretReference) -> String? {
    switch reference.source {
    case .env: return getenv(reference.name).map { String(cString: $0) }  // not `environment`: it copies every variable per call
    case .file: return try? String(contentsOfFile: reference.name, encoding: .utf8)
    case .store: return nil
    }
}
