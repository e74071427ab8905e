package lndconn

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/lightningnetwork/lnd/lnrpc"
	"google.golang.org/protobuf/proto"
	"gopkg.in/macaroon.v2"
)

// Macaroon is an lnd macaroon. As gRPC per-call credentials
// (credentials.PerRPCCredentials) it sends itself, hex-encoded in the
// "macaroon" metadata lnd reads, with every call, unless the call's context
// carries another (WithMacaroon). The zero Macaroon is none.
type Macaroon struct {
	raw []byte
}

// NewMacaroon returns the macaroon whose binary encoding is raw.
func NewMacaroon(raw []byte) Macaroon {
	return Macaroon{raw: append([]byte(nil), raw...)}
}

// ReadMacaroon reads a macaroon file as lnd writes them (admin.macaroon,
// readonly.macaroon, or one `lncli bakemacaroon --save_to` wrote).
func ReadMacaroon(path string) (Macaroon, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Macaroon{}, fmt.Errorf("read macaroon: %w", err)
	}
	if len(raw) == 0 {
		return Macaroon{}, fmt.Errorf("read macaroon: %s is empty", path)
	}
	return Macaroon{raw: raw}, nil
}

// IsZero reports whether m is no macaroon.
func (m Macaroon) IsZero() bool { return len(m.raw) == 0 }

// Bytes returns the macaroon's binary encoding.
func (m Macaroon) Bytes() []byte { return append([]byte(nil), m.raw...) }

// macaroonKey is the context key of WithMacaroon.
type macaroonKey struct{}

// WithMacaroon returns a context whose lnd calls carry m instead of the
// macaroon their connection was dialed with: for the few calls that need a
// permission the connection's macaroon deliberately lacks.
func WithMacaroon(ctx context.Context, m Macaroon) context.Context {
	return context.WithValue(ctx, macaroonKey{}, m)
}

// GetRequestMetadata returns the metadata a call made with ctx carries: the
// macaroon WithMacaroon put in ctx, else m.
func (m Macaroon) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if o, ok := ctx.Value(macaroonKey{}).(Macaroon); ok && !o.IsZero() {
		m = o
	}
	if m.IsZero() {
		return nil, errors.New("no lnd macaroon")
	}
	return map[string]string{"macaroon": hex.EncodeToString(m.raw)}, nil
}

// RequireTransportSecurity is true: a macaroon is a bearer secret, sent
// over TLS only.
func (Macaroon) RequireTransportSecurity() bool { return true }

// Permissions returns the permissions the macaroon grants, as
// "entity:action" (and "uri:<method>" for a macaroon baked for named
// methods): lnd writes them into the macaroon's identifier (what `lncli
// printmacaroon` shows), and checks a call against exactly these. Caveats
// can only narrow them.
func (m Macaroon) Permissions() (map[string]bool, error) {
	var mac macaroon.Macaroon
	if err := mac.UnmarshalBinary(m.raw); err != nil {
		return nil, fmt.Errorf("not a macaroon: %w", err)
	}
	id := mac.Id()
	const bakeryV3 = 3 // lnd accepts only identifiers of macaroon-bakery version 3
	if len(id) < 1 || id[0] != bakeryV3 {
		return nil, errors.New("not an lnd macaroon (its identifier is not of the version lnd bakes)")
	}
	var mid lnrpc.MacaroonId
	if err := proto.Unmarshal(id[1:], &mid); err != nil {
		return nil, fmt.Errorf("not an lnd macaroon: identifier: %w", err)
	}
	ops := map[string]bool{}
	for _, op := range mid.Ops {
		for _, a := range op.Actions {
			ops[op.Entity+":"+a] = true
		}
	}
	return ops, nil
}
