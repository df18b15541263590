#!/usr/bin/env python3
"""An HTTPS proxy for the benchmarks that sends every tunnel to the fake ECR endpoint.

The Go helper (Debian's amazon-ecr-credential-helper 0.6.0, aws-sdk-go-v2 of 2022) ignores
AWS_ENDPOINT_URL_ECR, so it always calls https://api.ecr.<region>.amazonaws.com. It does
honour HTTPS_PROXY and SSL_CERT_FILE, and so do we: both helpers are pointed at this proxy,
which answers CONNECT, terminates TLS with a certificate from a throw-away CA (trusted via
SSL_CERT_FILE) and relays the plain HTTP to the fake endpoint. Both helpers then take the
same path: CONNECT, TLS 1.3 handshake, one HTTP/1.1 request.

Usage: tls_proxy.py CERT KEY UPSTREAM_PORT   (prints the listening port, serves until stdin
closes)
"""
import socket
import ssl
import sys
import threading


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(conn, ctx, upstream_port):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk or len(head) > 65536:
                conn.close()
                return
            head += chunk
        if not head.startswith(b"CONNECT "):
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tls = ctx.wrap_socket(conn, server_side=True)
        up = socket.create_connection(("127.0.0.1", upstream_port))
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, ssl.SSLError) as e:
        print(f"tls_proxy: {e}", file=sys.stderr, flush=True)
        conn.close()
        return
    threading.Thread(target=relay, args=(up, tls), daemon=True).start()
    relay(tls, up)
    tls.close()
    up.close()


def main():
    cert, key, upstream_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(256)
    print(srv.getsockname()[1], flush=True)

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError as e:
                print(f"tls_proxy: accept: {e}", file=sys.stderr, flush=True)
                continue
            threading.Thread(target=handle, args=(conn, ctx, upstream_port), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
