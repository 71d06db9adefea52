package wsclient

import (
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/server/internal/wire"
)

// ProtocolVersion is the websocket protocol version this client speaks
// (docs/protocol.md).
const ProtocolVersion = 1

// Limits are the server's limits, announced in the welcome.
type Limits struct {
	MaxMessageBytes int     `json:"maxMessageBytes"`
	MaxNoteBytes    int     `json:"maxNoteBytes"`
	OpsPerSecond    float64 `json:"opsPerSecond"`
}

// Peer is another participant as announced by welcome or presence.
type Peer struct {
	Client   string       `json:"client"`
	Name     string       `json:"name"`
	Color    string       `json:"color"`
	ReadOnly bool         `json:"readonly"`
	Sel      ot.Selection `json:"sel,omitempty"`
	Rev      int64        `json:"rev"` // the revision Sel refers to, as sent by the server
}

// Client -> server messages.

type helloMsg struct {
	Type     string `json:"type"`
	Protocol int    `json:"protocol"`
	Session  string `json:"session"`
	Name     string `json:"name"`
	Rev      *int64 `json:"rev,omitempty"`
}

type nameMsg struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// serverMsg is any server -> client message; package wire decodes them.
type serverMsg = wire.Msg

func parseFrame(b []byte, out []serverMsg) ([]serverMsg, error) { return wire.ParseFrame(b, out, nil) }

var (
	parseFrameIntern = wire.ParseFrame
	parseSel         = wire.ParseSel
	sameStr          = wire.SameStr
)
