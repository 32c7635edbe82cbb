// pipe2(O_CLOEXEC) is a GNU extension the Glibc module does not expose to Swift.
#ifndef ECRPUSH_CCHILDPROCESS_H
#define ECRPUSH_CCHILDPROCESS_H

/// Creates a pipe whose both ends are close-on-exec, atomically (no window for another thread's fork).
int ecr_pipe_cloexec(int fds[2]);

#include <spawn.h>
/// posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child starts in `path`.
int ecr_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor from `lowest` up,
/// so it inherits nothing but what the actions set up, even descriptors another thread opened without
/// close-on-exec.
int ecr_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

#endif
