/// An error of rekey's own, which says what went wrong (its `description`) and how a command that meets it exits,
/// as Hummingbird's `HTTPResponseError` carries its status.
///
/// - 2: bad input, or a state that refuses the change (nothing was changed or sent);
/// - 1: the command ran and something failed (a value that does not open, a race to run again).
public protocol RekeyError: Error, CustomStringConvertible {
    var exitCode: Int32 { get }
}
