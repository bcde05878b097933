/// A min-heap of deadlines: the engine's one timer pops what has expired.
/// Entries are never removed early; each carries a token that the owner
/// compares with its current one, so a stale deadline is simply ignored.
struct DeadlineQueue<Token> {
    private var heap: [(deadline: UInt64, token: Token)] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliest: UInt64? { heap.first?.deadline }

    mutating func insert(_ deadline: UInt64, _ token: Token) {
        heap.append((deadline, token))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns every entry due at or before `now`.
    mutating func popExpired(now: UInt64) -> [Token] {
        var out: [Token] = []
        while let first = heap.first, first.deadline <= now {
            out.append(first.token)
            removeFirst()
        }
        return out
    }

    private mutating func removeFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && heap[l].deadline < heap[smallest].deadline { smallest = l }
            if r < heap.count && heap[r].deadline < heap[smallest].deadline { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
