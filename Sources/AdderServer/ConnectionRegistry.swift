// Every open connection of one server and what it is doing, so that the connection cap can close the
// connection that matters least instead of refusing a new one.
//
// Hummingbird's `AvailableConnectionsDelegate` hook sees each accepted connection and gates accepting;
// `GuardedHTTP1Channel.setup` registers each connection a moment later, on its own event loop, and
// each connection's `ConnectionGuard` reports its phase. A connection is counted from its accept
// (`pending`) and then by its entry, until its close future completes. Everything is behind one lock.
import HummingbirdCore
import NIOConcurrencyHelpers
import NIOCore

/// The open connections of one server, with the phase each is in, and the cap on their number.
final class ConnectionRegistry: Sendable {
    /// What a connection is doing, in the order the cap evicts them: first a connection already closing,
    /// then an idle one (waiting for the first byte of a request), then one whose head is still
    /// arriving, then one whose body is still arriving. A connection computing an answer is never evicted.
    enum Phase: Int, Sendable, Comparable {
        case closing, idle, head, body, busy

        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }

    /// Sent through an evicted connection's pipeline; its `ConnectionGuard` closes it (a 503 when its
    /// body was still arriving).
    struct EvictionEvent: Sendable {}

    private struct Entry {
        let channel: any Channel
        var phase: Phase
        var since: NIODeadline
        var evicted = false
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Accepted, not registered yet.
        var pending = 0
        /// Entries told to close that have not closed yet.
        var dying = 0
        /// True after the accept hook was refused for want of an evictable connection.
        var acceptingPaused = false
        /// The listening socket, to resume accepting when a connection becomes evictable.
        var listener: (any Channel)?

        /// Open connections beyond the cap, not counting those already told to close.
        func excess(_ maximum: Int) -> Int { entries.count + pending - dying - maximum }

        /// The connection to close first (other than `sparing`), marked as evicted, or nil when every
        /// other connection is busy or already closing.
        mutating func takeVictim(sparing: ObjectIdentifier? = nil) -> (any Channel)? {
            var best: (id: ObjectIdentifier, phase: Phase, since: NIODeadline)?
            for (id, entry) in entries where !entry.evicted && entry.phase != .busy && id != sparing {
                if let b = best, (b.phase, b.since) <= (entry.phase, entry.since) { continue }
                best = (id, entry.phase, entry.since)
            }
            guard let id = best?.id else { return nil }
            entries[id]?.evicted = true
            dying += 1
            return entries[id]?.channel
        }

        var hasEvictable: Bool { entries.values.contains { !$0.evicted && $0.phase != .busy } }

        /// The listening socket to tell to accept again, if accepting was paused (then no longer).
        mutating func resumeAccepting() -> (any Channel)? {
            guard acceptingPaused else { return nil }
            acceptingPaused = false
            return listener
        }
    }

    /// The cap on open connections.
    let maximum: Int
    private let state = NIOLockedValueBox(State())

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Remembers the listening socket (from `onServerRunning`).
    func setListener(_ channel: any Channel) {
        state.withLockedValue { $0.listener = channel }
    }

    /// A connection was accepted: past the cap, the connection that matters least is told to close.
    func connectionAccepted() {
        let victim = state.withLockedValue { state -> (any Channel)? in
            state.pending += 1
            return state.excess(maximum) > 0 ? state.takeVictim() : nil
        }
        victim.map(Self.evict)
    }

    /// Tells `victim`'s guard to close it, on a later turn of its event loop: never under the lock (the
    /// guard reports back), never before the connection is set up.
    private static func evict(_ victim: any Channel) {
        victim.eventLoop.execute { victim.pipeline.fireUserInboundEventTriggered(EvictionEvent()) }
    }

    /// Adds an accepted connection, idle since now, until its close future completes. If an earlier
    /// accept found nothing to evict, evicts now: another connection if one can go, else this one.
    func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let (victim, listener) = state.withLockedValue { state -> ((any Channel)?, (any Channel)?) in
            state.pending -= 1
            state.entries[id] = Entry(channel: channel, phase: .idle, since: .now())
            guard state.excess(maximum) > 0 else { return (nil, state.resumeAccepting()) }
            return (state.takeVictim(sparing: id) ?? state.takeVictim(), nil)
        }
        victim.map(Self.evict)
        listener?.read()
        channel.closeFuture.whenComplete { _ in self.remove(id) }
    }

    /// Records that `channel` entered `phase` at `since`; a connection that can now be evicted lets a
    /// paused listening socket accept again.
    func update(_ channel: any Channel, phase: Phase, since: NIODeadline) {
        let listener = state.withLockedValue { state -> (any Channel)? in
            let id = ObjectIdentifier(channel)
            guard state.entries[id] != nil else { return nil }
            state.entries[id]?.phase = phase
            state.entries[id]?.since = since
            return phase == .busy ? nil : state.resumeAccepting()
        }
        listener?.read()
    }

    private func remove(_ id: ObjectIdentifier) {
        let listener = state.withLockedValue { state -> (any Channel)? in
            if state.entries.removeValue(forKey: id)?.evicted == true { state.dying -= 1 }
            return state.resumeAccepting()
        }
        listener?.read()
    }

    /// Whether the listening socket may accept: below the cap, or at it with a connection to evict.
    func isAccepting() -> Bool {
        state.withLockedValue { state in
            if state.excess(maximum) < 0 || state.hasEvictable {
                state.acceptingPaused = false
                return true
            }
            state.acceptingPaused = true
            return false
        }
    }
}

/// Hummingbird's hook on the listening socket, backed by a `ConnectionRegistry` (which counts closes
/// by the connections' own close futures).
struct ConnectionCap: AvailableConnectionsDelegate {
    let registry: ConnectionRegistry

    mutating func connectionOpened() { registry.connectionAccepted() }
    mutating func connectionClosed() {}
    func isAcceptingNewConnections() -> Bool { registry.isAccepting() }
}
