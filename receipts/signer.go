// Package receipts signs koshd's balance receipts in batches: the receipts
// of every call that arrives while a signature is being made are signed
// together, under one BIP-340 signature over the root of an RFC 9162 Merkle
// tree of their digests (docs/proofs.md, section 6). Each receipt carries
// its audit path and a random nonce, so it verifies on its own and reveals
// nothing about the others in its batch.
//
// Signing costs one scalar base multiplication; batching spreads it over
// every receipt signed at the same time, which under load is dozens.
package receipts

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kosh-reserve/kosh/proofs/receipt"
	"github.com/kosh-reserve/kosh/proofs/sig"
)

// MaxBatch is the most receipts one signature covers.
const MaxBatch = 1024

// Signer signs receipts with one issuer key. There is no goroutine to
// start or stop: the first caller to find no signature in progress signs
// for everyone waiting (flat combining), then hands the next batch to one
// of the callers in it. It is safe for concurrent use.
type Signer struct {
	key *sig.Signer

	mu      sync.Mutex
	pending []*request // waiting for the next signature
	busy    bool       // a caller is signing a batch

	signed     atomic.Uint64 // receipts signed
	signatures atomic.Uint64 // signatures made
}

// Stats counts what a Signer has done.
type Stats struct {
	// Receipts is the number of receipts signed.
	Receipts uint64
	// Signatures is the number of BIP-340 signatures made for them.
	Signatures uint64
}

// Stats returns the counts so far.
func (s *Signer) Stats() Stats {
	return Stats{Receipts: s.signed.Load(), Signatures: s.signatures.Load()}
}

// request is one Sign call's receipts and their digests.
type request struct {
	rs     []*receipt.Receipt
	leaves [][32]byte
	// lead is closed by the signer of the previous batch when this request
	// must sign the next one; done when its receipts are signed.
	lead chan struct{}
	done chan struct{}
	err  error
}

// New returns a Signer for key.
func New(key *sig.Signer) *Signer { return &Signer{key: key} }

// Key is the issuer's x-only key, 64 lower-case hex.
func (s *Signer) Key() string { return s.key.Key() }

// Sign makes every receipt in rs a signed version 2 receipt: it sets the
// version, issuer key, a fresh nonce, the batch position and path, and the
// signature. Receipts of concurrent calls share one signature. The
// receipts' other fields must be final.
func (s *Signer) Sign(rs ...*receipt.Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	if len(rs) > MaxBatch {
		for len(rs) > 0 {
			n := min(len(rs), MaxBatch)
			if err := s.Sign(rs[:n]...); err != nil {
				return err
			}
			rs = rs[n:]
		}
		return nil
	}
	// The digests are computed here, on the caller's goroutine, so that
	// the batch signer only builds the tree and signs.
	nonces := make([]byte, 16*len(rs))
	if _, err := rand.Read(nonces); err != nil {
		return fmt.Errorf("read randomness for receipt nonces: %w", err)
	}
	req := &request{rs: rs, leaves: make([][32]byte, len(rs)), lead: make(chan struct{}), done: make(chan struct{})}
	for i, r := range rs {
		r.Version = receipt.ReceiptVersion
		r.IssuerKey = s.key.Key()
		r.Nonce = hex.EncodeToString(nonces[16*i : 16*i+16])
		r.Batch, r.Signature = nil, ""
		h, err := r.Hash()
		if err != nil {
			return fmt.Errorf("receipt of %s: %w", r.Account, err)
		}
		req.leaves[i] = h
	}

	s.mu.Lock()
	s.pending = append(s.pending, req)
	lead := !s.busy
	s.busy = true
	s.mu.Unlock()
	if !lead {
		select {
		case <-req.done:
			return req.err
		case <-req.lead:
		}
	}
	s.signPending()
	<-req.done
	return req.err
}

// signPending signs the pending requests as one batch (at most MaxBatch
// receipts), then hands leadership to the first request left waiting, or
// clears busy.
func (s *Signer) signPending() {
	// Let the goroutines that are ready to run (typically the other callers
	// woken by the same ledger commit) queue their receipts first: one
	// yield, which costs nothing when no one else is runnable, makes the
	// batch several times larger under load.
	runtime.Gosched()
	s.mu.Lock()
	var batch []*request
	n := 0
	for len(s.pending) > 0 && n+len(s.pending[0].rs) <= MaxBatch {
		batch = append(batch, s.pending[0])
		n += len(s.pending[0].rs)
		s.pending = s.pending[1:]
	}
	s.mu.Unlock()

	err := s.signBatch(batch, n)
	for _, r := range batch {
		r.err = err
		close(r.done)
	}

	s.mu.Lock()
	if len(s.pending) > 0 {
		close(s.pending[0].lead)
	} else {
		s.busy = false
	}
	s.mu.Unlock()
}

// signBatch builds the tree over the n receipts of batch, signs its digest
// and fills in each receipt's batch and signature.
func (s *Signer) signBatch(batch []*request, n int) error {
	leaves := make([][32]byte, 0, n)
	for _, r := range batch {
		leaves = append(leaves, r.leaves...)
	}
	root, paths := receipt.ReceiptBatchTree(leaves)
	sg, err := s.key.Sign(receipt.ReceiptBatchDigest(root, uint32(n)))
	if err != nil {
		return fmt.Errorf("sign a batch of %d receipts: %w", n, err)
	}
	s.signatures.Add(1)
	s.signed.Add(uint64(n))
	signature := sig.EncodeSignature(sg)
	i := 0
	for _, r := range batch {
		for _, rc := range r.rs {
			rc.Batch = &receipt.ReceiptBatch{Index: uint32(i), Size: uint32(n), Path: receipt.EncodeReceiptPath(paths[i])}
			rc.Signature = signature
			i++
		}
	}
	return nil
}
