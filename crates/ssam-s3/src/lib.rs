//! Local S3: durable object store on disk and the S3 protocol.
