// Package auth bakes and checks koshd's macaroons, as lnd does: a root key
// kept in a 0600 file in the data directory, macaroons whose first-party
// caveats list the operations they grant ("ops assets:read supply:mint"),
// optionally restrict them to one account ("account <uuid>") or to a time
// ("time-before <RFC 3339>"), and gRPC interceptors that enforce the
// permission map in package perms on every call.
//
// Clients send the macaroon hex-encoded in the "macaroon" gRPC metadata
// key; over REST, in the "Grpc-Metadata-macaroon" header.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kosh-reserve/kosh/perms"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"gopkg.in/macaroon.v2"
)

// Location is the macaroon location koshd writes.
const Location = "koshd"

// Caveat condition prefixes.
const (
	caveatOps        = "ops"
	caveatAccount    = "account"
	caveatTimeBefore = "time-before"
)

// Service bakes and verifies macaroons under one root key.
type Service struct {
	rootKey []byte
	now     func() time.Time
}

// NewService returns a service using rootKey (32 bytes).
func NewService(rootKey []byte) (*Service, error) {
	if len(rootKey) != 32 {
		return nil, fmt.Errorf("macaroon root key must be 32 bytes, got %d", len(rootKey))
	}
	return &Service{rootKey: rootKey, now: time.Now}, nil
}

// LoadOrCreateRootKey reads the root key file, creating it (0600) with a
// fresh random key if it does not exist. A key file readable by others is
// refused.
func LoadOrCreateRootKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate macaroon root key: %w", err)
		}
		if err := WriteSecret(path, []byte(hex.EncodeToString(key)+"\n")); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read macaroon root key: %w", err)
	}
	if err := CheckSecretMode(path); err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("macaroon root key %s is not 64 hex characters", path)
	}
	return key, nil
}

// WriteSecret writes a file readable only by its owner (0600), atomically.
func WriteSecret(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CheckSecretMode refuses a secret file that group or others can access.
func CheckSecretMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("secret file %s has permissions %o; it must be readable by its owner only: chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	return nil
}

// Bake returns a macaroon granting ops, restricted to accountID if it is not
// empty, and valid until expiry if it is not zero.
func (s *Service) Bake(ops []perms.Op, accountID string, expiry time.Time) (*macaroon.Macaroon, error) {
	id := make([]byte, 17)
	id[0] = 1 // id version
	if _, err := rand.Read(id[1:]); err != nil {
		return nil, fmt.Errorf("bake macaroon: %w", err)
	}
	m, err := macaroon.New(s.rootKey, id, Location, macaroon.V2)
	if err != nil {
		return nil, fmt.Errorf("bake macaroon: %w", err)
	}
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = op.String()
	}
	caveats := []string{caveatOps + " " + strings.Join(names, " ")}
	if accountID != "" {
		caveats = append(caveats, caveatAccount+" "+accountID)
	}
	if !expiry.IsZero() {
		caveats = append(caveats, caveatTimeBefore+" "+expiry.UTC().Format(time.RFC3339))
	}
	for _, c := range caveats {
		if err := m.AddFirstPartyCaveat([]byte(c)); err != nil {
			return nil, fmt.Errorf("bake macaroon: %w", err)
		}
	}
	return m, nil
}

// BakeHex is Bake returning the hex encoding of the binary macaroon.
func (s *Service) BakeHex(ops []perms.Op, accountID string, expiry time.Time) (string, error) {
	m, err := s.Bake(ops, accountID, expiry)
	if err != nil {
		return "", err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return "", fmt.Errorf("encode macaroon: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Grant is what a verified macaroon allows.
type Grant struct {
	ops     map[perms.Op]bool
	Account string // "" unless caveated to one account
}

// Has reports whether the grant includes op.
func (g Grant) Has(op perms.Op) bool { return g.ops[op] }

// Verify checks a hex-encoded macaroon's signature and caveats and returns
// what it grants. Unknown caveats make it invalid, as do several "ops"
// caveats that would widen each other (they intersect) or several accounts.
func (s *Service) Verify(macHex string) (Grant, error) {
	raw, err := hex.DecodeString(macHex)
	if err != nil {
		return Grant{}, errors.New("macaroon is not hex-encoded")
	}
	var m macaroon.Macaroon
	if err := m.UnmarshalBinary(raw); err != nil {
		return Grant{}, errors.New("macaroon cannot be decoded")
	}
	conds, err := m.VerifySignature(s.rootKey, nil)
	if err != nil {
		return Grant{}, errors.New("macaroon signature is invalid (not baked by this koshd?)")
	}
	g := Grant{}
	seenOps := false
	for _, c := range conds {
		name, arg, _ := strings.Cut(c, " ")
		switch name {
		case caveatOps:
			set := map[perms.Op]bool{}
			for _, f := range strings.Fields(arg) {
				e, a, ok := strings.Cut(f, ":")
				if !ok {
					return Grant{}, fmt.Errorf("macaroon caveat %q has a malformed operation %q", c, f)
				}
				op := perms.Op{Entity: e, Action: a}
				if !seenOps || g.ops[op] {
					set[op] = true
				}
			}
			g.ops, seenOps = set, true
		case caveatAccount:
			if _, err := uuid.Parse(arg); err != nil {
				return Grant{}, fmt.Errorf("macaroon caveat %q names no valid account", c)
			}
			if g.Account != "" && g.Account != arg {
				return Grant{}, errors.New("macaroon is caveated to two different accounts")
			}
			g.Account = arg
		case caveatTimeBefore:
			t, err := time.Parse(time.RFC3339, arg)
			if err != nil {
				return Grant{}, fmt.Errorf("macaroon caveat %q has a malformed time", c)
			}
			if !s.now().Before(t) {
				return Grant{}, fmt.Errorf("macaroon expired at %s", arg)
			}
		default:
			return Grant{}, fmt.Errorf("macaroon has an unknown caveat %q", c)
		}
	}
	return g, nil
}

type grantKey struct{}

// GrantFromContext returns the grant of the macaroon that authenticated the
// call, if any.
func GrantFromContext(ctx context.Context) (Grant, bool) {
	g, ok := ctx.Value(grantKey{}).(Grant)
	return g, ok
}

// Authorize checks the macaroon in ctx's metadata against the rule for
// method and returns a context carrying the grant. Errors are gRPC statuses.
func (s *Service) Authorize(ctx context.Context, method string) (context.Context, error) {
	rule, ok := perms.Methods[method]
	if !ok {
		// Fail closed: a method nobody wrote a rule for is unreachable.
		return nil, status.Errorf(codes.PermissionDenied, "%s has no permission rule; refusing", method)
	}
	if rule.Public {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("macaroon")
	if len(vals) == 0 || vals[0] == "" {
		return nil, status.Error(codes.Unauthenticated,
			"this call needs a macaroon: koshcli takes --macaroonpath; REST clients send it hex-encoded in the Grpc-Metadata-macaroon header")
	}
	g, err := s.Verify(vals[0])
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, err.Error())
	}
	for _, op := range rule.Ops {
		if !g.Has(op) {
			return nil, status.Errorf(codes.PermissionDenied, "macaroon does not grant %s, which %s requires", op, method)
		}
	}
	if rule.AccountScoped && g.Account == "" {
		return nil, status.Errorf(codes.PermissionDenied, "%s needs a wallet macaroon caveated to an account", method)
	}
	return context.WithValue(ctx, grantKey{}, g), nil
}

// UnaryInterceptor enforces the permission map on unary calls.
func (s *Service) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.Authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// StreamInterceptor enforces the permission map on streaming calls.
func (s *Service) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler) error {
	ctx, err := s.Authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

// RequireAccount checks that the call's macaroon is caveated to accountID.
// Wallet handlers call it with the account the request names.
func RequireAccount(ctx context.Context, accountID string) error {
	g, ok := GrantFromContext(ctx)
	if !ok || g.Account == "" {
		return status.Error(codes.PermissionDenied, "this call needs a wallet macaroon caveated to an account")
	}
	if g.Account != accountID {
		return status.Errorf(codes.PermissionDenied,
			"this macaroon is for account %s; it cannot act on account %s", g.Account, accountID)
	}
	return nil
}
