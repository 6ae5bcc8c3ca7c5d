/*
 * liststat DIR: lists DIR and stat()s every entry relative to it (as a
 * call does each file of a migration directory), and prints how many:
 * what proving that no file changed costs, with nothing else done.
 * session.sh times it as the floor under a new session's call.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int
main(int argc, char **argv)
{
	DIR		   *dir;
	struct dirent *de;
	struct stat st;
	long		n = 0;

	if (argc != 2 || (dir = opendir(argv[1])) == NULL)
	{
		fprintf(stderr, "usage: liststat DIR (a directory that can be read)\n");
		return 2;
	}
	while ((de = readdir(dir)) != NULL)
	{
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, 0) == 0)
			n++;
	}
	closedir(dir);
	printf("%ld\n", n);
	return 0;
}
