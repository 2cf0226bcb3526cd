/*
 * The peers benchmark's sender: DogStatsD lines over 10,000 contexts, sent to 127.0.0.1:PORT
 * with sendmmsg at RATE lines per second for SECONDS, paced every millisecond so the rate holds
 * without bursts longer than a millisecond's share.
 *
 *   send PORT RATE SECONDS line|packed [tags|plain]
 *
 * `line` sends one line per datagram; `packed` fills each datagram up to 1,432 bytes (a
 * 1,500-byte MTU less the IPv4 and UDP headers, as the clients' buffering defaults do).
 * `plain` folds the tags into the metric name, for receivers that read only plain StatsD.
 * Prints {"datagrams":N,"lines":N,"seconds":S} when done.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CONTEXTS 10000
#define POOL 4096
#define PACKED_BYTES 1432
#define BATCH 64

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Line i: 60 % counters, 30 % gauges, 10 % timers, over CONTEXTS contexts. */
static int line(char *out, size_t cap, long i, int plain) {
  int c = (int)(i % CONTEXTS);
  const char *type = c % 10 < 6 ? "c" : c % 10 < 9 ? "g" : "ms";
  if (plain)
    return snprintf(out, cap, "app.request.metric_%d.prod.svc-%d.ctx_%d%s:%ld|%s", c % 50, c % 13, c,
                    c % 2 ? ".eu-1" : "", (i * 7) % 1000, type);
  return snprintf(out, cap, "app.request.metric_%d:%ld|%s|#env:prod,service:svc-%d,ctx:%d%s",
                  c % 50, (i * 7) % 1000, type, c % 13, c, c % 2 ? ",region:eu-1" : "");
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: send PORT RATE SECONDS line|packed [tags|plain]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  double line_rate = atof(argv[2]), seconds = atof(argv[3]);
  int packed = strcmp(argv[4], "packed") == 0;
  int plain = argc == 6 && strcmp(argv[5], "plain") == 0;

  /* A pool of datagrams built once, so the send loop only sends. */
  static char bufs[POOL][PACKED_BYTES + 128];
  static int lens[POOL], counts[POOL];
  long next = 0;
  for (int p = 0; p < POOL; p++) {
    char l[256];
    int n = 0, len = 0;
    do {
      int ll = line(l, sizeof l, next, plain);
      if (n > 0 && len + 1 + ll > PACKED_BYTES) break;
      if (n > 0) bufs[p][len++] = '\n';
      memcpy(bufs[p] + len, l, ll);
      len += ll;
      n++;
      next++;
    } while (packed);
    lens[p] = len;
    counts[p] = n;
  }

  double rate = line_rate * POOL / next; /* datagrams per second */

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int k = 0; k < BATCH; k++) {
    msgs[k].msg_hdr.msg_name = &to;
    msgs[k].msg_hdr.msg_namelen = sizeof to;
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }

  long sent = 0, lines = 0;
  double start = now(), end = start + seconds, t;
  long total = (long)(rate * seconds);
  while ((t = now()) < end && sent < total) {
    long due = (long)((t - start) * rate);
    if (due > total) due = total;
    while (sent < due) {
      int n = due - sent < BATCH ? (int)(due - sent) : BATCH;
      for (int k = 0; k < n; k++) {
        int p = (int)((sent + k) % POOL);
        iov[k].iov_base = bufs[p];
        iov[k].iov_len = lens[p];
      }
      int r = sendmmsg(fd, msgs, n, 0);
      if (r <= 0) continue; /* the socket buffer is full: try again, nothing counts as sent */
      for (int k = 0; k < r; k++) lines += counts[(sent + k) % POOL];
      sent += r;
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  printf("{\"datagrams\":%ld,\"lines\":%ld,\"seconds\":%.3f}\n", sent, lines, now() - start);
  return 0;
}
