import GRDB

/// What `rekey audit` reports: per integration and per partner, what is exposed and who is affected.
///
/// An installation is *exposed* when its integration stores credentials in plaintext and it still holds
/// a secret. *Plaintext-class* secrets are passwords and long-lived API tokens: usable as is by whoever
/// holds a copy, until someone rotates them.
public struct AuditReport: Sendable, Codable {
    /// One registry integration's figures.
    public struct IntegrationLine: Sendable, Codable {
        /// The integration's registry id.
        public var id: String
        /// The integration's display name.
        public var name: String
        /// The id of the partner that owns it.
        public var partner: String
        /// How it authenticates, per the registry.
        public var auth: AuthKind
        /// How it stores credentials, per the registry.
        public var storage: CredentialStorage
        /// Its installations in the store, in any state.
        public var installations: Int
        /// Unmigrated installations holding a password or API token, however stored.
        public var plaintextClass: Int
        /// Unmigrated installations holding a secret stored in plaintext.
        public var exposed: Int
        /// Installations moved to OAuth.
        public var migrated: Int
        /// Of this integration's installations, the fraction still holding a password or API token (0…1).
        public var stillOnPasswords: Double
        /// Distinct customers with an exposed installation.
        public var customersAffected: Int
        /// Distinct contact emails of the exposed installations.
        public var contactsAffected: Int
    }

    /// One registry partner's figures, summed over its integrations.
    public struct PartnerLine: Sendable, Codable {
        /// The partner's registry id.
        public var id: String
        /// The partner's display name.
        public var name: String
        /// The ids of its integrations, in registry order.
        public var integrations: [String]
        /// Installations of its integrations, in any state.
        public var installations: Int
        /// Unmigrated installations holding a password or API token.
        public var plaintextClass: Int
        /// Unmigrated installations holding a secret stored in plaintext.
        public var exposed: Int
        /// Distinct customers with an exposed installation of its integrations.
        public var customersAffected: Int
        /// Distinct contact emails of those exposed installations.
        public var contactsAffected: Int
    }

    /// Figures over the whole store; customers and contacts are counted once however many integrations they use.
    public struct Totals: Sendable, Codable {
        /// Every installation in the store.
        public var installations: Int
        /// Unmigrated installations holding a password or API token.
        public var plaintextClass: Int
        /// Unmigrated installations holding a secret stored in plaintext.
        public var exposed: Int
        /// Distinct customers with an exposed installation.
        public var customersAffected: Int
        /// Distinct contact emails of the exposed installations.
        public var contactsAffected: Int
    }

    /// One line per registry integration, in registry order.
    public var integrations: [IntegrationLine]
    /// One line per registry partner, in registry order.
    public var partners: [PartnerLine]
    /// The sums over the whole store.
    public var totals: Totals
    /// Whether any installation is exposed: `rekey audit` then exits 1.
    public var anythingExposed: Bool { totals.exposed > 0 }
}

extension AppDatabase {
    /// Builds the audit report from the registry and the store's installations.
    public func auditReport(registry: Registry) async throws -> AuditReport {
        struct Installation {
            var integration: String
            var customer: String
            var migrated: Bool
            var holdsSecret: Bool
            var contacts: [String] = []
        }
        let installations = try await writer.read { db -> [String: Installation] in
            var result: [String: Installation] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT i.id, i.integration_id, i.customer, i.state,
                       EXISTS (SELECT 1 FROM installation_secret s WHERE s.installation_id = i.id) AS holds_secret
                FROM installation i
                """) {
                result[row["id"]] = Installation(integration: row["integration_id"], customer: row["customer"],
                                                 migrated: (row["state"] as InstallationState?) == .migrated, holdsSecret: row["holds_secret"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT installation_id, email FROM installation_contact") {
                result[row["installation_id"]]?.contacts.append(row["email"])
            }
            return result
        }

        var byIntegration: [String: [Installation]] = [:]
        for installation in installations.values { byIntegration[installation.integration, default: []].append(installation) }

        func isExposed(_ i: Installation, _ integration: Integration) -> Bool {
            integration.storage == .plaintext && i.holdsSecret && !i.migrated
        }
        func isPlaintextClass(_ i: Installation, _ integration: Integration) -> Bool {
            integration.auth.isPlaintextClass && i.holdsSecret && !i.migrated
        }

        var lines: [AuditReport.IntegrationLine] = []
        var exposedByPartner: [String: [Installation]] = [:]
        var allExposed: [Installation] = []
        var plaintextByPartner: [String: Int] = [:]
        for integration in registry.integrations {
            let all = byIntegration[integration.id] ?? []
            let exposed = all.filter { isExposed($0, integration) }
            let plaintextClass = all.filter { isPlaintextClass($0, integration) }.count
            exposedByPartner[integration.partner, default: []] += exposed
            plaintextByPartner[integration.partner, default: 0] += plaintextClass
            allExposed += exposed
            lines.append(.init(
                id: integration.id, name: integration.name, partner: integration.partner, auth: integration.auth,
                storage: integration.storage, installations: all.count, plaintextClass: plaintextClass, exposed: exposed.count,
                migrated: all.filter(\.migrated).count,
                stillOnPasswords: all.isEmpty ? 0 : Double(plaintextClass) / Double(all.count),
                customersAffected: Set(exposed.map(\.customer)).count, contactsAffected: Set(exposed.flatMap(\.contacts)).count))
        }
        let partners = registry.partners.map { partner in
            let mine = lines.filter { $0.partner == partner.id }
            let exposed = exposedByPartner[partner.id] ?? []
            return AuditReport.PartnerLine(
                id: partner.id, name: partner.name, integrations: mine.map(\.id),
                installations: mine.reduce(0) { $0 + $1.installations }, plaintextClass: plaintextByPartner[partner.id] ?? 0,
                exposed: exposed.count, customersAffected: Set(exposed.map(\.customer)).count,
                contactsAffected: Set(exposed.flatMap(\.contacts)).count)
        }
        let totals = AuditReport.Totals(
            installations: installations.count, plaintextClass: lines.reduce(0) { $0 + $1.plaintextClass },
            exposed: allExposed.count, customersAffected: Set(allExposed.map(\.customer)).count,
            contactsAffected: Set(allExposed.flatMap(\.contacts)).count)
        return AuditReport(integrations: lines, partners: partners, totals: totals)
    }
}
