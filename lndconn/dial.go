package lndconn

import (
	"errors"
	"fmt"
	"time"

	"github.com/lightningnetwork/lnd/lnrpc"
	"github.com/lightningnetwork/lnd/lnrpc/routerrpc"
	"github.com/lightningnetwork/lnd/lnrpc/walletrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
)

// DefaultMaxBackoff is the longest wait between two attempts to reconnect
// to lnd when Dial is given none.
const DefaultMaxBackoff = 30 * time.Second

// maxRecvMsg bounds one response (lnd's answers for a large node, such as
// ListChannels or GetTransactions, exceed gRPC's default of 4 MiB).
const maxRecvMsg = 64 << 20

// Conn is a connection to one lnd node and lnd's clients on it; every call
// carries the macaroon it was dialed with (see WithMacaroon).
type Conn struct {
	// Lightning is lnd's main service (lnrpc).
	Lightning lnrpc.LightningClient
	// Router is lnd's payment router (routerrpc).
	Router routerrpc.RouterClient
	// Wallet is lnd's wallet kit (walletrpc).
	Wallet walletrpc.WalletKitClient

	cc *grpc.ClientConn
}

// Dial connects to the node's host over TLS pinned to its certificate
// (Node.TLSCertPath), sending mac with every call. It does not wait for
// lnd: the connection is made by the first call and remade by itself, with
// exponential backoff from 1 s up to maxBackoff (0: DefaultMaxBackoff),
// whenever lnd goes away. Node.MacaroonPath is not read: the caller reads
// it (ReadMacaroon), to check it first if it wants.
func Dial(n Node, mac Macaroon, maxBackoff time.Duration) (*Conn, error) {
	if n.Host == "" {
		return nil, errors.New("no lnd host")
	}
	if mac.IsZero() {
		return nil, errors.New("no lnd macaroon")
	}
	creds, err := credentials.NewClientTLSFromFile(n.TLSCertPath, "")
	if err != nil {
		return nil, fmt.Errorf("load tls cert %s: %w", n.TLSCertPath, err)
	}
	if maxBackoff <= 0 {
		maxBackoff = DefaultMaxBackoff
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = maxBackoff
	cc, err := grpc.NewClient(n.Host, grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(mac),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsg)))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", n.Host, err)
	}
	return &Conn{Lightning: lnrpc.NewLightningClient(cc), Router: routerrpc.NewRouterClient(cc),
		Wallet: walletrpc.NewWalletKitClient(cc), cc: cc}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.cc.Close() }
