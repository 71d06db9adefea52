package room

import (
	"context"
	"encoding/json"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

// Exports, seen by everyone. After an export that made a commit, the server
// records its checkpoint (scribe.ExportCheckpoint) and calls Hub.Exported,
// which publishes it to every node's room of the note, this node's too;
// each room keeps it as the note's latest export and sends its members,
// viewers included, an exported message. A room opened later reads the
// latest export from the note's checkpoints (scribe.LastExport), and every
// welcome carries it, so a late joiner sees it too.

// kindExported is the node message of an export.
const kindExported = "exported"

// Exported tells every node's room of the note that it was exported as e:
// their members get an exported message at once. The error is the
// publication's; rooms opened afterwards read the export from the
// checkpoint the caller recorded.
func (h *Hub) Exported(ctx context.Context, id scribe.NoteID, e protocol.Export) error {
	msg, _ := json.Marshal(nodeMsg{V: 1, Node: h.cfg.NodeID, Kind: kindExported, Export: &e})
	return h.cfg.Store.Publish(ctx, id, msg)
}

// exportOf is what members see of an export checkpoint: the maker's name,
// never their email.
func exportOf(c scribe.Checkpoint) *protocol.Export {
	return &protocol.Export{By: c.By.Name, Commit: c.ExportCommit(), Time: c.Time, Rev: c.Rev}
}

// loadExport reads the note's latest export when the room opens. A failure
// costs the welcome its export, not the note: it is logged.
func (rm *Room) loadExport() {
	c, ok, err := scribe.LastExport(rm.ctx, rm.cfg.Store, rm.id)
	if err != nil {
		rm.cfg.Logger.Warn("read the note's last export", "note", rm.ref, "err", err)
		return
	}
	if ok {
		rm.export = exportOf(c)
	}
}

// adoptExport makes e the note's latest export and tells the members,
// unless the room knows this one or a later one (an export of a higher
// revision) already. An export of a revision this node has not heard of
// yet is sent after that revision (read from the log), so that no member
// compares it with an older head. The error is the log's.
func (rm *Room) adoptExport(e *protocol.Export) error {
	if e == nil || e.Commit == "" || e.Rev < 0 {
		return nil
	}
	if old := rm.export; old != nil && (old.Commit == e.Commit || old.Rev > e.Rev) {
		return nil
	}
	if e.Rev > rm.rev {
		if err := rm.syncTo(e.Rev); err != nil {
			return err
		}
	}
	rm.export = e
	rm.broadcast(protocol.EncodeExported(*e), nil)
	return nil
}
