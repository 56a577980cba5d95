/* A minimal client for the simulator's control server (plain HTTP/1.1 JSON on 127.0.0.1). */
#ifndef BT_DR_SIM_CONTROL_H
#define BT_DR_SIM_CONTROL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* POSTs `body` (JSON, may be "") to `path` of the control server at `control_url`
 * ("http://127.0.0.1:PORT"); returns the HTTP status, or -1. */
static inline int sim_control(const char *control_url, const char *path, const char *body) {
  const char *hostport = strstr(control_url, "://");
  hostport = hostport ? hostport + 3 : control_url;
  const char *colon = strrchr(hostport, ':');
  if (colon == NULL) return -1;
  int port = atoi(colon + 1);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  char req[2048];
  int n = snprintf(req, sizeof req,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                   path, strlen(body), body);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return -1;
  }
  char resp[4096];
  size_t got = 0;
  ssize_t r;
  while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
  resp[got] = 0;
  close(fd);
  int status = -1;
  if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) return -1;
  return status;
}

#endif
