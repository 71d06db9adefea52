// Package protocol is the one definition in code of Scribe's websocket
// protocol, docs/protocol.md: the protocol version, the messages of both
// directions, their decoding and validation (client frames, on the server)
// and parsing (server frames, in Go clients), their encoding, and the close
// codes with the one mapping from an error to a close code and reason.
//
// The server, the Go client (client/) and the load tool
// (client/loadtest) all speak it through this package. The hot paths (an op
// frame decoded by the server, an ack or op encoded by it, a server frame
// parsed by a client) are written by hand rather than through encoding/json's
// reflection; their benchmarks against encoding/json are in bench_test.go
// and docs/benchmarks.md. encoding/json stays the reference: the tests and
// fuzz targets check that both agree.
//
// It imports nothing of the project but the root package (errors, revisions)
// and ot (operations, selections).
package protocol

// Version is the websocket protocol version of docs/protocol.md, sent in the
// client's hello and the server's welcome.
const Version = 1
