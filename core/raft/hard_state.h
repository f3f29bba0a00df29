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
 * payload is the msgpack array [term, vote, commit, node id] (files written before the
 * node id was kept hold only the first three and are read as any node's).
 *
 * The node id makes a data directory its node's own: started as another node, a node
 * would take that node's vote as its own and could vote twice in one term.
 */
#ifndef CAIRN_RAFT_HARD_STATE_H
#define CAIRN_RAFT_HARD_STATE_H

#include "base/vfs.h"
#include "raft/raft.h"

/*
 * Reads node `self`'s hard state kept in `dir`; a node that never saved one gets all
 * zeroes. A hard state another node saved is ERR_INVALID (the directory is not self's).
 */
err *raft_hard_state_load(struct vfs *vfs, const char *dir, uint32_t self,
                          struct raft_hard_state *out);

/* Replaces the hard state in `dir` with node `self`'s `hs`, durably, before returning. */
err *raft_hard_state_save(struct vfs *vfs, const char *dir, uint32_t self,
                          const struct raft_hard_state *hs);

#endif
