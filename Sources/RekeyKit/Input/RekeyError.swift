/// An error of rekey's own, which says what went wrong (its `description`) and how a command that meets it exits,
/// as Hummingbird's `HTTPResponseError` carries its status.
///
/// - 2: bad input, or a state that refuses the change (nothing was changed or sent);
/// - 1: the command ran and something failed (a value that does not open, a race to run again).
public protocol RekeyError: Error, CustomStringConvertible {
    /// The exit status of a command that stops on this error: 2 for bad input or a refused change, 1 for a failure.
    var exitCode: Int32 { get }
}
