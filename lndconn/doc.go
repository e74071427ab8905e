// Package lndconn is how koshd reaches lnd. It owns three things every user
// of lnd needs and none should write again:
//
//   - the option value that names an lnd node, name=alice,host=...,
//     tlscert=...,macaroon=... (--lnd.node, --payments.lnd), parsed with
//     package kvopt so that every such option refuses the same mistakes in
//     the same words (ParseNode);
//   - macaroons: read from a file, sent hex-encoded in the "macaroon"
//     metadata of every call as gRPC per-call credentials, replaced for one
//     call by another (WithMacaroon), and read for the permissions lnd
//     wrote in them (Permissions);
//   - the connection: TLS pinned to lnd's tls.cert, reconnecting by itself,
//     with lnd's lnrpc, routerrpc and walletrpc clients on it (Dial).
//
// It does not own what is asked of lnd: each user declares, in its own
// package, the narrow interface of the lnd methods it calls (as
// reserve/lightning and payments do), which the generated clients in Conn
// satisfy and in-package fakes implement in tests.
package lndconn
