/// New tokens were not stored because another reconnect of the installation got there first: it was migrated
/// meanwhile, or another live process is verifying tokens of its own for it (two `rekey serve`, or `rekey reconnect`
/// beside the web flow). Nothing stored changed.
public struct MigrationTaken: RekeyError, Equatable {
    /// Who got there first.
    public enum Reason: Sendable, Equatable {
        /// The installation is migrated: its verified tokens stay.
        case migrated
        /// Process `pid` stored tokens for it and is verifying them.
        case underWay(pid: Int32)
    }

    /// The installation's id.
    public var installation: String
    /// Who got there first.
    public var reason: Reason

    /// 1: the reconnect did not happen here.
    public var exitCode: Int32 { 1 }
    /// What happened, for people.
    public var description: String {
        switch reason {
        case .migrated: "installation \(installation) was migrated by another reconnect meanwhile; its tokens stay"
        case .underWay(let pid): "another reconnect of installation \(installation) is under way (process \(pid)); try again once it ends"
        }
    }
}
