/*
 * helper sha256 FILE: print FILE's SHA-256 as sha256sum does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

int helper_sha256(int argc, char **argv);

int
helper_sha256(int argc, char **argv)
{
	struct sha256 s;
	unsigned char buf[65536];
	uint8_t d[32];
	char hex[65];
	ssize_t got;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: helper sha256 FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	sha256_init(&s);
	/* Odd-sized reads exercise the partial-block path. */
	while ((got = read(fd, buf, 1000)) > 0)
		sha256_update(&s, buf, (size_t)got);
	close(fd);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	printf("%s  %s\n", hex, argv[1]);
	return 0;
}
