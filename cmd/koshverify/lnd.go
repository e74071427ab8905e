package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/kosh-reserve/kosh/proofs/attest"
	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// graphClient is what the channel checks ask of the verifier's own lnd.
type graphClient interface {
	GetChanInfo(ctx context.Context, in *lnrpc.ChanInfoRequest, opts ...grpc.CallOption) (*lnrpc.ChannelEdge, error)
}

// lndConn is the verifier's lnd.
type lndConn struct {
	conn *grpc.ClientConn
	graphClient
	mac string
}

func (l *lndConn) Close() error { return l.conn.Close() }

func dialLnd(nf nodeFlags) (*lndConn, error) {
	if nf.lndCert == "" || nf.lndMacaroon == "" {
		return nil, usageError{"--lnd needs --lnd.tlscert and --lnd.macaroon"}
	}
	creds, err := credentials.NewClientTLSFromFile(nf.lndCert, "")
	if err != nil {
		return nil, fmt.Errorf("cannot read your lnd's certificate %s: %w", nf.lndCert, err)
	}
	mac, err := os.ReadFile(nf.lndMacaroon)
	if err != nil {
		return nil, fmt.Errorf("cannot read the macaroon %s: %w", nf.lndMacaroon, err)
	}
	conn, err := grpc.NewClient(nf.lnd, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("cannot connect to your lnd at %s: %w", nf.lnd, err)
	}
	return &lndConn{conn: conn, graphClient: lnrpc.NewLightningClient(conn), mac: hex.EncodeToString(mac)}, nil
}

// checkAnnounced asks the verifier's own lnd, for every channel the
// attestation calls announced, for the channel with its short channel id:
// it must be in the graph, with the same channel point and capacity, and
// the attesting node as one of its two ends (docs/proofs.md 4.13). lnd
// accepts an announcement only after checking its four signatures and that
// the funding output is the two funding keys' 2-of-2.
func (r *runner) checkAnnounced(ctx context.Context, a *attest.Attestation, l *lndConn) {
	before := r.failures
	ctx = metadata.AppendToOutgoingContext(ctx, "macaroon", l.mac)
	n := 0
	for _, node := range a.Reserves.Lightning {
		for _, c := range node.Channels {
			if c.Evidence != attest.EvidenceAnnounced {
				continue
			}
			n++
			h, tx, out, ok := attest.ParseShortChannelID(c.ShortChannelID)
			if !ok {
				r.fail(fmt.Sprintf("announced channel %s has no valid short channel id", c.ChannelPoint))
				continue
			}
			id := uint64(h)<<40 | uint64(tx)<<16 | uint64(out)
			e, err := l.GetChanInfo(ctx, &lnrpc.ChanInfoRequest{ChanId: id})
			if err != nil {
				r.fail(fmt.Sprintf("channel %s (%s) of node %s is not in your lnd's graph (%v): nothing shows it is the node's", c.ChannelPoint, c.ShortChannelID, node.Name, err))
				continue
			}
			switch {
			case e.ChanPoint != c.ChannelPoint:
				r.fail(fmt.Sprintf("channel %s of node %s: your lnd knows short channel id %s as channel point %s", c.ChannelPoint, node.Name, c.ShortChannelID, e.ChanPoint))
			case e.Node1Pub != node.PubKey && e.Node2Pub != node.PubKey:
				r.fail(fmt.Sprintf("channel %s is announced between %s and %s, not by node %s (%s)", c.ChannelPoint, e.Node1Pub, e.Node2Pub, node.Name, node.PubKey))
			case e.Capacity != int64(c.Capacity):
				r.fail(fmt.Sprintf("channel %s has capacity %d in your lnd's graph, not %d", c.ChannelPoint, e.Capacity, c.Capacity))
			}
		}
	}
	if r.failures == before {
		r.okf("%d announced channels are in your lnd's graph with the issuer's nodes as one end", n)
	}
}
