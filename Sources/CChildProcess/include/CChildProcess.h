// pipe2(O_CLOEXEC) is a GNU extension the Glibc module does not expose to Swift.
#ifndef ECRPUSH_CCHILDPROCESS_H
#define ECRPUSH_CCHILDPROCESS_H

/// Creates a pipe whose both ends are close-on-exec, atomically (no window for another thread's fork).
int ecr_pipe_cloexec(int fds[2]);

#include <spawn.h>
/// posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child starts in `path`.
int ecr_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
