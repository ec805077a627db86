/* venustui's guest agent: runs programs in the QEMU lab's guest for the host, over a virtio-serial port.
 *
 * Protocol, one line per message, fields separated by tabs (arguments and environment never hold tabs or
 * newlines; the host refuses such runs before sending them):
 *   host → guest  PING <token> | RUN <id> <deadline s> <env count> <K=V>… <argv>… | KILL <id>
 *   guest → host  READY <kernel release> | PONG <token> | O <id> <line> | E <id> <line> | X <id> <status>
 * <status> is the exit code, or -N for a program ended by signal N. A run past its deadline is killed
 * (SIGKILL to its process group: a Venus hang ignores SIGINT) inside the guest, whatever the host does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "venustui.agent"
#define LINE_MAX_BYTES 65536
#define MAX_FIELDS 256

static int port = -1;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void send_all(const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(port, data, size);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                usleep(1000);
                continue;
            }
            return; /* the host is not connected: the message is dropped, the run goes on */
        }
        data += n;
        size -= (size_t)n;
    }
}

static void send_line(const char *kind, const char *id, const char *text, size_t size) {
    char head[64];
    int n = id ? snprintf(head, sizeof head, "%s\t%s\t", kind, id) : snprintf(head, sizeof head, "%s\t", kind);
    send_all(head, (size_t)n);
    send_all(text, size);
    send_all("\n", 1);
}

static int open_port(void) {
    DIR *dir = opendir("/sys/class/virtio-ports");
    struct dirent *entry;
    char path[512], name[128];
    while (dir && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f) && strncmp(name, PORT_NAME, strlen(PORT_NAME)) == 0) {
            fclose(f);
            snprintf(path, sizeof path, "/dev/%s", entry->d_name);
            closedir(dir);
            return open(path, O_RDWR | O_CLOEXEC);
        }
        fclose(f);
    }
    if (dir)
        closedir(dir);
    return -1;
}

/* Lines read from a descriptor, kept until a newline completes them. */
struct reader {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t used;
};

/* Hand each complete line of r (with flush, the rest too) to emit, one at a time and copied out first:
 * emit may read this same reader again (a PING while a program runs). */
static void drain(struct reader *r, int flush, void (*emit)(char *, size_t, void *), void *ctx) {
    for (;;) {
        char *newline = memchr(r->buf, '\n', r->used);
        size_t size;
        if (newline)
            size = (size_t)(newline - r->buf);
        else if (r->used == sizeof r->buf || (flush && r->used > 0))
            size = r->used; /* a line longer than the buffer goes in pieces */
        else
            return;
        char *line = malloc(size + 1);
        if (!line)
            return;
        memcpy(line, r->buf, size);
        line[size] = '\0';
        size_t consumed = newline ? size + 1 : size;
        memmove(r->buf, r->buf + consumed, r->used - consumed);
        r->used -= consumed;
        emit(line, size, ctx);
        free(line);
    }
}

/* Read what is there; returns 0 at end of file. */
static int fill(struct reader *r) {
    ssize_t n = read(r->fd, r->buf + r->used, sizeof r->buf - r->used);
    if (n > 0)
        r->used += (size_t)n;
    return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

struct run {
    pid_t pid;
    char id[32];
    double deadline;
    int killed;
};

static struct run current = {0};

struct output {
    const char *kind;
};

static void emit_output(char *line, size_t size, void *ctx) {
    send_line(((struct output *)ctx)->kind, current.id, line, size);
}

static void handle_command(char *line);

static void emit_command(char *line, size_t size, void *ctx) {
    (void)size;
    (void)ctx;
    handle_command(line);
}

static struct reader host;

static void kill_current(void) {
    if (current.pid > 0 && !current.killed) {
        kill(-current.pid, SIGKILL);
        current.killed = 1;
    }
}

static void start_run(char **fields, int count) {
    if (count < 4) {
        send_line("X", fields[1], "-1\tmalformed RUN", 16);
        return;
    }
    int nenv = atoi(fields[3]);
    if (4 + nenv >= count) {
        send_line("X", fields[1], "-1\tnothing to run", 16);
        return;
    }
    kill_current(); /* one run at a time: a new RUN ends one the host gave up on */
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        send_line("X", fields[1], "-1\tpipe failed", 13);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        dup2(out[1], 1);
        dup2(err[1], 2);
        clearenv();
        setenv("PATH", "/bin:/usr/bin", 1);
        setenv("HOME", "/tmp", 1);
        for (int i = 0; i < nenv; i++)
            putenv(fields[4 + i]);
        execv(fields[4 + nenv], fields + 4 + nenv);
        dprintf(2, "venustui-agent: cannot run %s: %s\n", fields[4 + nenv], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    current.pid = pid;
    current.killed = 0;
    snprintf(current.id, sizeof current.id, "%s", fields[1]);
    current.deadline = now() + atof(fields[2]);

    struct reader o = {.fd = out[0]}, e = {.fd = err[0]};
    struct output ok = {"O"}, ek = {"E"};
    int open_out = 1, open_err = 1;
    while (open_out || open_err) {
        struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {port, POLLIN, 0}};
        int timeout = (int)((current.deadline - now()) * 1000);
        if (timeout < 0)
            timeout = 0;
        poll(fds, 3, timeout > 200 ? 200 : timeout);
        if (now() > current.deadline)
            kill_current();
        if (open_out && (fds[0].revents & (POLLIN | POLLHUP))) {
            open_out = fill(&o);
            drain(&o, !open_out, emit_output, &ok);
        }
        if (open_err && (fds[1].revents & (POLLIN | POLLHUP))) {
            open_err = fill(&e);
            drain(&e, !open_err, emit_output, &ek);
        }
        if (fds[2].revents & POLLIN) { /* PING and KILL while a program runs */
            if (fill(&host))
                drain(&host, 0, emit_command, NULL);
        } else if (fds[2].revents & POLLHUP) {
            kill_current(); /* the host's client is gone (killed by its runner): the run ends with it */
        }
    }
    close(out[0]);
    close(err[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    char text[64];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    int n = snprintf(text, sizeof text, "%d%s", code, current.killed ? "\tkilled at its deadline" : "");
    send_line("X", current.id, text, (size_t)n);
    current.pid = 0;
}

static void handle_command(char *line) {
    char *fields[MAX_FIELDS];
    int count = 0;
    for (char *field = strtok(line, "\t"); field && count < MAX_FIELDS - 1; field = strtok(NULL, "\t"))
        fields[count++] = field;
    fields[count] = NULL;
    if (count == 0)
        return;
    if (strcmp(fields[0], "PING") == 0) {
        send_line("PONG", NULL, count > 1 ? fields[1] : "", count > 1 ? strlen(fields[1]) : 0);
    } else if (strcmp(fields[0], "KILL") == 0) {
        if (count > 1 && current.pid > 0 && strcmp(fields[1], current.id) == 0)
            kill_current();
    } else if (strcmp(fields[0], "RUN") == 0 && count > 1) {
        if (current.pid > 0)
            send_line("X", fields[1], "-1\tbusy", 7);
        else
            start_run(fields, count);
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    for (int tries = 0; (port = open_port()) < 0; tries++) {
        if (tries == 100) {
            fprintf(stderr, "venustui-agent: no virtio-serial port named %s\n", PORT_NAME);
            return 1;
        }
        usleep(50000);
    }
    struct utsname uts;
    uname(&uts);
    fprintf(stderr, "venustui-agent: ready on port %s (kernel %s)\n", PORT_NAME, uts.release);
    send_line("READY", NULL, uts.release, strlen(uts.release));
    host.fd = port;
    for (;;) {
        struct pollfd fd = {port, POLLIN, 0};
        poll(&fd, 1, 1000);
        if (fd.revents & POLLIN) {
            if (fill(&host))
                drain(&host, 0, emit_command, NULL);
            else
                usleep(100000); /* no host connected: reads end at once */
        } else if (fd.revents & POLLHUP) {
            usleep(100000);
        }
    }
}
