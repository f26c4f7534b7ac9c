// Command echo runs gatebridge's test backends: one echo server per -listen flag and one
// fake external-auth service per -auth flag, until SIGINT or SIGTERM.
//
//	echo -listen 127.0.0.1:9001=web -listen 127.0.0.1:9002=api -auth 127.0.0.1:9009=auth
//
// Each server answers as its name (the X-Echo-Server header and the "server" field); a
// flag without "=name" uses the address as the name. Servers speak HTTP/1.1 and h2c.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

type endpoint struct{ addr, name string }

type endpoints []endpoint

func (e *endpoints) String() string {
	var parts []string
	for _, x := range *e {
		parts = append(parts, x.addr+"="+x.name)
	}
	return strings.Join(parts, ",")
}

func (e *endpoints) Set(v string) error {
	addr, name, ok := strings.Cut(v, "=")
	if addr == "" || (ok && name == "") {
		return fmt.Errorf("want ADDR=NAME, e.g. 127.0.0.1:9001=web; got %q", v)
	}
	if !ok {
		name = addr
	}
	*e = append(*e, endpoint{addr: addr, name: name})
	return nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("echo: ")
	var listen, auth endpoints
	flag.Var(&listen, "listen", "start an echo server: ADDR=NAME (repeatable)")
	flag.Var(&auth, "auth", "start a fake external-auth service: ADDR=NAME (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: echo -listen 127.0.0.1:9001=web [-listen ...] [-auth 127.0.0.1:9009=auth]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || len(listen)+len(auth) == 0 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var servers []*echo.Server
	closeAll := func() {
		for _, s := range servers {
			if err := s.Close(); err != nil {
				log.Print(err)
			}
		}
	}
	start := func(kind string, e endpoint, h http.Handler) {
		s, err := echo.Start(e.name, e.addr, h, nil)
		if err != nil {
			closeAll()
			log.Fatal(err)
		}
		servers = append(servers, s)
		log.Printf("%s %q listening on %s", kind, s.Name, s.URL)
	}
	for _, e := range listen {
		start("echo server", e, echo.NewHandler(e.name))
	}
	for _, e := range auth {
		start("auth service", e, echo.NewAuthHandler(e.name))
	}

	<-ctx.Done()
	log.Print("stopping")
	closeAll()
}
