/*
 * hard_state.h — the durable hard state of a Raft node: current term, vote, commit index
 * (Figure 2's "persistent state on all servers", plus the commit index so a restarted node
 * can re-apply without waiting for the leader).
 *
 * It is written atomically and durably: the new state goes to "<dir>/hardstate.tmp",
 * which is synced and then renamed over "<dir>/hardstate" (vfs.h promises rename is atomic
 * and durable). A crash leaves either the old or the new state, never a mix. The file
 * carries a magic number and a checksum, so a damaged file is ERR_CORRUPT, never a
 * silently wrong term or vote, which could let a node vote twice in one term (§5.2).
 *
 * Layout: "CRNHS001" | u32be payload length | payload | u32be checksum32(payload), where
 * payload is the msgpack array [term, vote, commit].
 */
#ifndef CAIRN_RAFT_HARD_STATE_H
#define CAIRN_RAFT_HARD_STATE_H

#include "base/vfs.h"
#include "raft/raft.h"

/* Reads the hard state kept in `dir`; a node that never saved one gets all zeroes. */
err *raft_hard_state_load(struct vfs *vfs, const char *dir, struct raft_hard_state *out);

/* Replaces the hard state in `dir`, durably, before returning. */
err *raft_hard_state_save(struct vfs *vfs, const char *dir, const struct raft_hard_state *hs);

#endif
