import Glibc

/// A directory the agent keeps state in. The agent runs as root: a file or link another
/// user could plant there would be read, replaced or written through by root, so the
/// directory must be the agent's alone — owned by root or the agent's own uid, writable
/// by no group or other user. Checked at start; each failure says what to run.
enum PrivateDirectory {
    /// `followingLink`: the state directory itself may be a link an administrator made
    /// (its target is checked); directories inside it may not be.
    static func check(_ path: String, followingLink: Bool) throws(AgentStateError) {
        var st = stat()
        guard (followingLink ? stat(path, &st) : lstat(path, &st)) == 0 else {
            throw AgentStateError("cannot check \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw AgentStateError("\(path) is not a directory (a link or file planted where the agent keeps its state?): remove it, and the agent makes it again")
        }
        let me = geteuid()
        guard st.st_uid == 0 || st.st_uid == me else {
            throw AgentStateError("\(path) is owned by uid \(st.st_uid), not root or this agent (uid \(me)): another user could plant files the agent would write; run: chown \(me) \(path)")
        }
        guard st.st_mode & 0o022 == 0 else {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            throw AgentStateError("\(path) is writable by its group or others (mode 0\(mode)): another user could plant a link the agent would write through; run: chmod go-w \(path)")
        }
    }

    /// Makes `path` (0700) if it is missing, then checks it.
    static func prepare(_ path: String, followingLink: Bool) throws(AgentStateError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw AgentStateError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        try check(path, followingLink: followingLink)
    }
}
