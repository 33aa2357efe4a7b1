// Preparing the next item on another thread while the caller works on the current one, so that
// loading never stalls training. The queue is one item deep: at most one item is being built ahead.
import Dispatch

/// Wraps an iterator so that each next element is produced on a background thread, one ahead.
///
/// The first `next()` starts producing the first element and waits for it; each later `next()` hands
/// over the element built meanwhile and starts the following one. Elements come in the base
/// iterator's order, identical to iterating it directly. Like `DataLoader(num_workers=1, prefetch_factor=1)`.
public final class PrefetchIterator<Base: IteratorProtocol & Sendable>: IteratorProtocol
where Base.Element: Sendable {
    private let slot: Slot
    private var started = false
    private var exhausted = false

    /// Takes ownership of `base`; from now on only the background task touches it.
    public init(_ base: Base) {
        slot = Slot(base: base)
    }

    /// The next element of the base iterator, built ahead of time when possible.
    public func next() -> Base.Element? {
        guard !exhausted else { return nil }
        if !started {
            started = true
            slot.produce()
        }
        slot.ready.wait()
        let element = slot.element
        slot.element = nil
        if element == nil {
            exhausted = true
        } else {
            slot.produce()
        }
        return element
    }

    /// The base iterator and the element built from it. At most one `produce` task runs at a time and the
    /// consumer reads only after `ready` signals, so the semaphore orders every access.
    private final class Slot: @unchecked Sendable {
        var base: Base
        var element: Base.Element?
        let ready = DispatchSemaphore(value: 0)

        init(base: Base) {
            self.base = base
        }

        func produce() {
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                element = base.next()
                ready.signal()
            }
        }
    }
}
