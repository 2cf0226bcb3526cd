/*
 * The physical limit in the peers benchmark: a receiver that only counts. One thread reads
 * 127.0.0.1:PORT with recvmmsg, 64 datagrams per call, and counts datagrams and lines.
 *
 *   recv PORT RCVBUF     (RCVBUF 0 keeps the kernel's default buffer)
 *
 * SIGUSR1 prints {"datagrams":N,"lines":N}; SIGTERM prints it and exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define SIZE 65536

static volatile sig_atomic_t report, stop;
static void on_usr1(int s) { (void)s; report = 1; }
static void on_term(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: recv PORT RCVBUF\n");
    return 2;
  }
  /* No SA_RESTART: a signal interrupts the blocking read so the loop can answer it. */
  struct sigaction a = {0};
  a.sa_handler = on_usr1;
  sigaction(SIGUSR1, &a, NULL);
  a.sa_handler = on_term;
  sigaction(SIGTERM, &a, NULL);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcvbuf = atoi(argv[2]);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("bind");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  static char bufs[BATCH][SIZE];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int k = 0; k < BATCH; k++) {
    iov[k].iov_base = bufs[k];
    iov[k].iov_len = SIZE;
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }
  long datagrams = 0, lines = 0;
  while (!stop) {
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    for (int k = 0; k < n; k++) {
      const char *b = bufs[k];
      unsigned len = msgs[k].msg_len;
      datagrams++;
      if (len == 0) continue;
      for (unsigned i = 0; i < len; i++) lines += b[i] == '\n';
      lines += b[len - 1] != '\n';
    }
    if (report || stop) {
      report = 0;
      printf("{\"datagrams\":%ld,\"lines\":%ld}\n", datagrams, lines);
      fflush(stdout);
    }
  }
  return 0;
}
