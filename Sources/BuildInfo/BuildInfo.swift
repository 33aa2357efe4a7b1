// What the running binary was built from. `gitVersion` comes from GitVersion.swift, which
// Plugins/BuildInfoPlugin writes before each build.

/// Facts about the build, fixed when it was compiled.
public enum BuildInfo {
    /// The git commit the package was built from: `git rev-parse --short HEAD` (e.g. "5ab4011"),
    /// with "-dirty" appended when a tracked file differed from that commit (staged or not; untracked
    /// files do not count, as for `git describe --dirty`), or "unknown" when it was built outside a
    /// git clone (a tarball or a copy without `.git`) or without git installed. The plugin asks git
    /// when HEAD, git's index, the manifest or a source file changed since the last build, so an edit
    /// of another file alone (a README) shows from the next such change.
    /// `mnist-adder --version` prints it; checkpoints keep it under the metadata key `version`.
    public static let version: String = gitVersion
}
