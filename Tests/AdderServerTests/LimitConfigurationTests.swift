// The server limits' defaults and their validation.
import AdderServer
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LimitConfigurationTests {
    @Test func defaults() {
        let c = ServerConfiguration()
        #expect(c.headTimeout == .seconds(10) && c.bodyTimeout == .seconds(30) && c.idleTimeout == .seconds(60))
        #expect(c.maximumConnections == 4096 && c.shutdownTimeout == .seconds(10))
    }

    @Test(arguments: [
        (ServerConfiguration(headTimeout: .zero), "head timeout is 0 s, expected more than 0 s and at most 3600 s"),
        (ServerConfiguration(bodyTimeout: .seconds(-1)), "body timeout is -1 s, expected more than 0 s and at most 3600 s"),
        (ServerConfiguration(idleTimeout: .seconds(3601)), "idle timeout is 3601 s, expected more than 0 s and at most 3600 s"),
        (ServerConfiguration(shutdownTimeout: .milliseconds(-500)), "shutdown timeout is -0.5 s, expected 0 s to 3600 s"),
        (ServerConfiguration(maximumConnections: 0), "maximum connections is 0, expected 1...1048576"),
    ])
    func invalidLimitsAreRefused(configuration: ServerConfiguration, message: String) {
        #expect(throws: ServerConfigurationError.self) { try configuration.validate() }
        do {
            try configuration.validate()
        } catch let error as ServerConfigurationError {
            #expect(error.description == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func zeroShutdownTimeoutIsAllowed() throws {
        try ServerConfiguration(shutdownTimeout: .zero).validate()
    }

    /// A cap the process cannot open descriptors for is refused before the server starts.
    @Test func aCapAboveTheDescriptorLimitIsRefused() throws {
        var limits = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0)
        try #require(limits.rlim_max != rlim_t.max && limits.rlim_max < (1 << 20), "hard limit too high to test")
        let hard = Int(limits.rlim_max)
        let configuration = ServerConfiguration(maximumConnections: hard - 10)
        #expect(throws: ServerConfigurationError.descriptorLimitTooLow(
            connections: hard - 10, needed: hard - 10 + ServerConfiguration.reservedDescriptors, limit: hard)
        ) {
            try configuration.ensureDescriptorLimit()
        }
        // The default cap fits the limit (raising the soft limit if need be).
        try ServerConfiguration().ensureDescriptorLimit()
    }
}
