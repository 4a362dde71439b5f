import Testing

@testable import ClosetAgent

@Suite struct BackoffTests {
    @Test func backoffDoublesWithJitterUpToTheCap() {
        for failures in 1...40 {
            let expected = min(Double(1 << min(failures - 1, 29)), 300)
            for _ in 0..<20 {
                let d = backoffDelay(failures, max: .seconds(300)).seconds
                #expect(d >= expected * 0.5 - 1e-9 && d <= expected + 1e-9, "failure \(failures): \(d) s")
            }
        }
    }
}
