import ArgumentParser

/// `--progress-interval`, for the commands that show progress while they send.
struct ProgressOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds between progress lines when stderr is not a terminal.", valueName: "seconds"))
    var progressInterval: Double = 5

    func validate() throws {
        guard progressInterval > 0 else { throw ValidationError("--progress-interval must be positive") }
    }

    func makeDisplay() -> ProgressDisplay { ProgressDisplay(interval: progressInterval) }
}
