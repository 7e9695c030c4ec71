/* C baseline of the `wake` benchmark: the same loop as wake_rx.ts. */
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 100;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  socklen_t l = sizeof a;
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  bind(s, (struct sockaddr *)&a, sizeof a);
  getsockname(s, (struct sockaddr *)&a, &l);
  printf("ready %d\n", ntohs(a.sin_port));
  fflush(stdout);
  double *lat = malloc(sizeof(double) * count);
  for (int i = 0; i < count; i++) {
    struct pollfd p = {s, POLLIN, 0};
    struct timespec t;
    double sent;
    poll(&p, 1, -1);
    clock_gettime(CLOCK_REALTIME, &t);
    recv(s, &sent, 8, 0);
    lat[i] = t.tv_sec * 1e6 + t.tv_nsec / 1e3 - sent;
  }
  qsort(lat, count, sizeof(double), cmp);
  printf("{\"median\":%.0f,\"p10\":%.0f,\"p90\":%.0f}\n", lat[count / 2], lat[count / 10], lat[count * 9 / 10]);
  return 0;
}
