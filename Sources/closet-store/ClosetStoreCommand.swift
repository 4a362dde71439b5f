// The central store arrives with its own issue; until then this executable says so plainly.
#if canImport(Glibc)
import Glibc
#endif

@main
struct ClosetStoreCommand {
    static func main() {
        print("closet-store: not built yet (the central store is the next milestone; see README)")
        exit(2)
    }
}
