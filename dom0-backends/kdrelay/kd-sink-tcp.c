// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-sink-tcp.c - xen-kdrelay's stream sink (--tcp [ADDR:]PORT): a
 * gdb-remote bridge or another stream debugger, one client at a time.
 *
 * Framing, both directions: u16 length (big endian), u8 type (1 DATA, 2
 * RESET: the target reset its session, length 0), u8 flags, then the
 * payload.  With --token FILE the client's first line must be the file's
 * first line; a new connection that authenticates replaces the current
 * one.  A debugger accepts a record when its frame is copied for sending:
 * the relay never blocks on a debugger that does not read (the guest's
 * ring fills instead), and a debugger that goes mid-frame loses that frame.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dlog.h"

#include "kd-sink.h"

#define KD_TCP_RETRY_MS	200

struct kd_client {
	int fd;				/* non-blocking */
	bool ok;			/* authenticated */
	size_t have;
	uint8_t buf[4 + SYNDBG_MAX_PDU + 256];
	/*
	 * The frame being sent: a debugger that reads slowly (or not at all)
	 * must never block the relay, so what the socket does not take waits
	 * here, and the next out record stays in the guest's ring meanwhile.
	 */
	size_t out_len, out_off;
	uint8_t out[4 + SYNDBG_MAX_PDU];
};

static struct kd_port *port;
static int listen_fd = -1;
static const char *tokfile;
static char token[256];
static struct kd_client cur = { .fd = -1 }, cand = { .fd = -1 };

static int tcp_open(struct kd_port *p, const struct kd_sink_conf *conf)
{
	struct addrinfo *ai = NULL;
	int one = 1, err = 0;

	port = p;
	tokfile = conf->token_file;
	if (tokfile) {
		FILE *f = fopen(tokfile, "r");

		if (!f || !fgets(token, sizeof(token), f)) {
			dlog(LOG_ERR, "failed to read token file \"%s\" (%s)", tokfile,
			     f ? "empty" : strerror(errno));
			if (f)
				fclose(f);
			return -EINVAL;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = '\0';
	}
	if (kd_sink_resolve("--tcp", conf->arg, "127.0.0.1", SOCK_STREAM, true, &ai) < 0)
		return -EINVAL;
	listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(listen_fd, 2) < 0) {
		err = -errno;
		dlog(LOG_ERR, "failed to listen on \"%s\" (%s)", conf->arg, strerror(errno));
	}
	freeaddrinfo(ai);
	return err;
}

static void client_close(struct kd_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	dlog(LOG_INFO, "debugger %s (%s)", c == &cur ? "disconnected" : "refused", why);
	close(c->fd);
	c->fd = -1;
	c->ok = false;
	c->have = 0;
	c->out_len = c->out_off = 0;
}

/*
 * Send what is left of the client's pending frame without blocking: 0 when
 * it is all sent, -EAGAIN when the socket is full (POLLOUT brings us back),
 * or -errno, the client then closed.
 */
static int client_flush(struct kd_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		if (n <= 0) {
			int err = n < 0 ? errno : EPIPE;

			client_close(c, strerror(err));
			return -err;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return 0;
}

/* One frame at a time: the record is taken once it is copied. */
static bool tcp_put(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	if (cur.fd < 0 || client_flush(&cur) < 0)
		return false;
	cur.out[0] = hdr->len >> 8;
	cur.out[1] = hdr->len & 0xff;
	cur.out[2] = hdr->type;
	cur.out[3] = hdr->flags;
	memcpy(cur.out + 4, buf, hdr->len);
	cur.out_len = 4 + hdr->len;
	cur.out_off = 0;
	client_flush(&cur);
	return true;
}

/* The token line of a new connection; true once it is authenticated. */
static bool client_auth(struct kd_client *c)
{
	uint8_t *nl;
	size_t tl;

	if (!tokfile)
		return true;
	nl = memchr(c->buf, '\n', c->have);
	if (!nl) {
		if (c->have >= sizeof(token))
			client_close(c, "token line too long");
		return false;
	}
	tl = nl - c->buf;
	if (tl && c->buf[tl - 1] == '\r')
		tl--;
	if (tl != strlen(token) || memcmp(c->buf, token, tl)) {
		client_close(c, "wrong token");
		return false;
	}
	c->have -= nl + 1 - c->buf;
	memmove(c->buf, nl + 1, c->have);
	return true;
}

/* Read what a connection sent; false when it closed. */
static bool client_fill(struct kd_client *c)
{
	ssize_t n;

	if (c->have >= sizeof(c->buf))
		return true;
	n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c, n == 0 ? "end of stream" : strerror(errno));
		return false;
	}
	if (n > 0)
		c->have += n;
	return true;
}

/* A candidate connection: once authenticated it replaces the current one. */
static void cand_read(void)
{
	if (!client_fill(&cand) || !client_auth(&cand))
		return;
	if (cur.fd >= 0)
		client_close(&cur, "replaced by a new connection");
	cur = cand;
	cur.ok = true;
	cur.out_len = cur.out_off = 0;
	cand.fd = -1;
	cand.have = 0;
	dlog(LOG_INFO, "debugger %s", tokfile ? "authenticated" : "connected");
}

/* Frames from the TCP debugger into the guest's in ring. */
static void client_read(bool fill)
{
	if (fill && !client_fill(&cur))
		return;
	while (cur.have >= 4 && port->attached) {
		uint32_t len = (uint32_t)cur.buf[0] << 8 | cur.buf[1];

		if (len > SYNDBG_MAX_PDU || cur.buf[2] != SYNDBG_PDU_DATA) {
			client_close(&cur, "bad frame");
			return;
		}
		if (cur.have < 4 + len)
			return;
		if (kd_in_put(port, cur.buf + 4, len) < 0)
			return;		/* retried when the guest consumed */
		cur.have -= 4 + len;
		memmove(cur.buf, cur.buf + 4 + len, cur.have);
	}
}

static void tcp_pump(void)
{
	if (cur.fd >= 0)
		client_read(false);
}

/* The listener, then the candidate, then the current debugger. */
static unsigned int tcp_poll_fds(struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = cand.fd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = cur.fd };
	if (cur.fd >= 0)
		pfd[2].events = (!port->attached || kd_in_room(port) ? POLLIN : 0) |
				(cur.out_len ? POLLOUT : 0);
	return 3;		/* poll() ignores negative descriptors */
}

static void tcp_poll_done(const struct pollfd *pfd)
{
	bool have_cur = pfd[2].fd >= 0, have_cand = pfd[1].fd >= 0;

	if (pfd[0].revents & POLLIN) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			client_close(&cand, "superseded by a newer connection");
			cand.fd = fd;
			cand.have = 0;
			dlog(LOG_INFO, "debugger connection opened");
			cand_read();
		}
	}
	if (have_cand && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
		cand_read();
	if (have_cur && (pfd[2].revents & POLLOUT) && cur.fd >= 0)
		client_flush(&cur);	/* the next record on the next turn */
	if (have_cur && cur.fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
		client_read(true);
}

/*
 * A debugger that does not read: send() takes what room its socket has,
 * but POLLOUT waits for a third of the buffer to be free, so the pending
 * frame is also retried on a timer (as often as the relay once polled).
 */
static int tcp_poll_timeout(void)
{
	return cur.fd >= 0 && cur.out_len ? KD_TCP_RETRY_MS : -1;
}

static void tcp_close(void)
{
	if (cur.fd >= 0)
		close(cur.fd);
	if (cand.fd >= 0)
		close(cand.fd);
	if (listen_fd >= 0)
		close(listen_fd);
	cur.fd = cand.fd = listen_fd = -1;
}

const struct kd_sink_ops kd_sink_tcp = {
	.name = "tcp",
	.open = tcp_open,
	.put = tcp_put,
	.pump = tcp_pump,
	.poll_fds = tcp_poll_fds,
	.poll_done = tcp_poll_done,
	.poll_timeout = tcp_poll_timeout,
	.close = tcp_close,
};
