import COpenSSL

/// PEM text in and out of OpenSSL through memory BIOs.
enum MemoryBIO {
    /// Runs `write` against a fresh memory BIO and returns what it wrote.
    static func text(_ operation: String, _ write: (OpaquePointer) -> Int32) throws(TLSError) -> String {
        let bio = try required("\(operation): BIO_new", BIO_new(BIO_s_mem()))
        defer { BIO_free(bio) }
        try check(operation, write(bio))
        var data: UnsafeMutablePointer<CChar>?
        let length = pw_bio_mem_data(bio, &data)
        guard let data, length > 0 else { throw TLSError(operation, detail: "nothing written") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// Runs `read` against a read-only BIO over `text`.
    static func reading<T>(_ text: String, _ read: (OpaquePointer) -> T?) -> T? {
        var text = text
        return text.withUTF8 { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
    }
}
