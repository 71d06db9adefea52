//go:build linux

// Command floor is the least a Go server can do for issue 16's one-writer
// workload, for comparison, not for use: it speaks just enough of
// docs/protocol.md for compare.js's ot.js client (hello, welcome, op, ack),
// keeps one note, accepts one writer at a time and never transforms. Per op
// it reads one websocket frame, decodes it, stores the op and writes the
// ack: nothing else. With --store redis the op is stored with one RPUSH
// (the cheapest durable write Redis has, no script); with --store wal it is
// appended to a file and fdatasync'd (the least an embedded store that
// survives a power cut can do); with --store none it is only kept in memory
// (what y-websocket does).
//
// What it costs per op, measured beside y-websocket and Scribe in one
// compare.js run, is the floor under issue 16's target 1: see
// docs/benchmarks.md, "Issue 16, target 1: the floor".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

type store interface {
	append(ctx context.Context, op []byte) error
}

type memory struct{ ops [][]byte }

func (m *memory) append(_ context.Context, op []byte) error {
	m.ops = append(m.ops, append([]byte(nil), op...))
	return nil
}

type redisList struct {
	c   *redis.Client
	key string
}

func (r redisList) append(ctx context.Context, op []byte) error {
	return r.c.RPush(ctx, r.key, op).Err()
}

type wal struct{ f *os.File }

func (w wal) append(_ context.Context, op []byte) error {
	if _, err := w.f.Write(append(op, '\n')); err != nil {
		return err
	}
	return syscall.Fdatasync(int(w.f.Fd())) // what bbolt calls on Linux
}

type msg struct {
	Type string          `json:"type"`
	Rev  int             `json:"rev"`
	Seq  int             `json:"seq"`
	Op   json.RawMessage `json:"op"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	kind := flag.String("store", "none", "none, redis or wal")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis URL (--store redis)")
	path := flag.String("wal", "", "log file (--store wal)")
	flag.Parse()

	var st store
	switch *kind {
	case "none":
		st = &memory{}
	case "redis":
		opt, err := redis.ParseURL(*redisURL)
		if err != nil {
			log.Fatal(err)
		}
		st = redisList{redis.NewClient(opt), fmt.Sprintf("floor:%d", os.Getpid())}
	case "wal":
		f, err := os.OpenFile(*path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		st = wal{f}
	default:
		log.Fatalf("--store: unknown %q", *kind)
	}

	var mu sync.Mutex // one writer at a time: the floor has no room
	rev := 0
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("POST /api/notes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"floor"}`))
	})
	mux.HandleFunc("GET /api/notes/{id}/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		mu.Lock()
		defer mu.Unlock()
		var m msg
		if ws.ReadJSON(&m) != nil || m.Type != "hello" {
			return
		}
		rev = 0
		welcome, _ := json.Marshal([]any{map[string]any{"type": "welcome", "protocol": 1, "rev": rev, "text": ""}})
		if ws.WriteMessage(websocket.TextMessage, welcome) != nil {
			return
		}
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := json.Unmarshal(data, &m); err != nil || m.Type != "op" || m.Rev != rev {
				ws.WriteMessage(websocket.TextMessage, []byte(`[{"type":"error","code":"EBADOP","message":"one writer, in order"}]`))
				return
			}
			if err := st.append(r.Context(), m.Op); err != nil {
				log.Print(err)
				return
			}
			rev++
			if ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `[{"type":"ack","rev":%d,"seq":%d}]`, rev, m.Seq)) != nil {
				return
			}
		}
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
