/*
 * cmd_milter.c - "spamtrace milter": the Sendmail/Postfix milter daemon.
 *
 * SYNOPSIS
 *	spamtrace milter --socket inet:PORT@HOST | inet6:PORT@HOST | unix:PATH
 *	    [--config FILE] [--foreground] [--user NAME] [--pidfile FILE]
 *	    [--timeout SEC] [--log-stderr]
 *
 * DESCRIPTION
 *	Opens the socket (as the invoking user, usually root), gives a unix
 *	socket to --user with mode 0660, daemonises unless --foreground,
 *	writes the pid file, drops privileges to --user and supervises one
 *	worker process that runs libmilter (milter_filter.c).
 *
 *	Why a supervisor: libmilter waits for SIGHUP, SIGTERM and SIGINT in
 *	its own thread and stops the filter on SIGHUP.  The supervisor is
 *	the process in the pid file; it turns SIGHUP into SIGUSR1 for the
 *	worker (a reload flag checked at each new connection), passes
 *	SIGTERM and SIGINT on, and starts a new worker if one dies (with a
 *	growing pause), on the socket it keeps open, so a crash never leaves
 *	the MTA without its filter for long.
 *
 *	Exit status: 0 after a clean stop; 1 when the socket cannot be
 *	opened or the daemon cannot start; 2 on a usage or configuration
 *	error, or when this build has no libmilter.
 *
 * STANDARDS
 *	The milter protocol through libmilter (smfi_register, smfi_setconn,
 *	smfi_opensocket, smfi_settimeout, smfi_main).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"
#include "milter_int.h"
#include "spamtrace/milter.h"

bool
milter_config_load(struct st_config *c, const char *path, char *errbuf,
    size_t size)
{
	struct st_error err;
	char p[4096];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");

	st_config_init(c);
	if (st_config_load(c, "/etc/spamtrace.conf", &err) != ST_OK &&
	    err.status != ST_EIO)
		goto fail;
	p[0] = '\0';
	if (xdg != NULL && *xdg)
		snprintf(p, sizeof(p), "%s/spamtrace/config", xdg);
	else if (home != NULL && *home)
		snprintf(p, sizeof(p), "%s/.config/spamtrace/config", home);
	if (p[0] && st_config_load(c, p, &err) != ST_OK &&
	    err.status != ST_EIO)
		goto fail;
	if (path != NULL && st_config_load(c, path, &err) != ST_OK)
		goto fail;
	return true;
fail:
	snprintf(errbuf, size, "%s", err.msg);
	st_config_free(c);
	return false;
}

static void
usage(FILE *f)
{
	fputs("usage: spamtrace milter --socket inet:PORT@HOST | "
	    "inet6:PORT@HOST | unix:PATH\n"
	    "                        [--config FILE] [--foreground] "
	    "[--user NAME] [--pidfile FILE]\n"
	    "                        [--timeout SEC] [--log-stderr]\n", f);
}

#ifndef ST_HAVE_MILTER

int
cmd_milter(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return EXIT_OK;
	}
	cli_warn("milter: this spamtrace was built without libmilter; "
	    "install it (Debian: apt install libmilter-dev) and build again");
	return EXIT_USAGE;
}

#else /* ST_HAVE_MILTER */

#include <libmilter/mfapi.h>

/* Default libmilter timeout: the MTA talks to us only on SMTP events, and
 * a client may idle up to smtpd_timeout (300 s) between them. */
#define DEFAULT_TIMEOUT	600
/* How long a stopping worker may take to finish its sessions. */
#define STOP_GRACE	30
/* Restart pause after a worker died: doubles up to this many seconds. */
#define MAX_BACKOFF	30

struct milter_opts {
	const char *sock, *config, *user, *pidfile;
	bool	foreground, log_stderr;
	int	timeout;
};

static bool
socket_spec_ok(const char *s)
{
	return strncasecmp(s, "inet:", 5) == 0 ||
	    strncasecmp(s, "inet6:", 6) == 0 ||
	    strncasecmp(s, "unix:", 5) == 0 ||
	    strncasecmp(s, "local:", 6) == 0;
}

/* The path of a unix socket spec, or NULL. */
static const char *
unix_path(const char *s)
{
	if (strncasecmp(s, "unix:", 5) == 0)
		return s + 5;
	if (strncasecmp(s, "local:", 6) == 0)
		return s + 6;
	return NULL;
}

static bool
write_pidfile(const char *path, pid_t pid)
{
	char tmp[4200], line[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0)
		return false;
	n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return false;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

static bool
drop_privileges(const struct passwd *pw)
{
	if (getuid() != 0 && geteuid() != 0)
		return pw->pw_uid == getuid();
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return false;
	/* and it must not be possible to get root back */
	return setuid(0) != 0 && getuid() == pw->pw_uid;
}

/* --- the worker --------------------------------------------------------- */

static void
on_usr1(int sig)
{
	(void)sig;
	milter_filter_request_reload();
}

static void
worker_main(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
	/* a supervisor killed with SIGKILL takes its worker along */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
#endif
	syslog(LOG_INFO, "worker %ld started", (long)getpid());
	_exit(smfi_main() == MI_SUCCESS ? 0 : 1);
}

static pid_t
start_worker(void)
{
	pid_t pid = fork();

	if (pid == 0)
		worker_main();
	if (pid < 0)
		syslog(LOG_ERR, "cannot start a worker: %m");
	return pid;
}

/* --- the supervisor ----------------------------------------------------- */

static int
supervise(const struct milter_opts *o)
{
	sigset_t set;
	siginfo_t info;
	struct timespec tick = { 1, 0 };
	pid_t worker;
	time_t started, restart_at = 0;
	int backoff = 1, sig, status;
	bool stopping = false;
	time_t stop_deadline = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	started = time(NULL);
	if ((worker = start_worker()) < 0)
		return 1;
	for (;;) {
		sig = sigtimedwait(&set, &info, &tick);
		if (sig == SIGHUP && worker > 0 && !stopping) {
			syslog(LOG_INFO, "SIGHUP: reloading the configuration "
			    "before the next connection");
			/* the supervisor's copy is what a restarted worker
			 * starts with: keep it the last good one too */
			milter_filter_reload();
			kill(worker, SIGUSR1);
		} else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			syslog(LOG_INFO, "stopping (signal %d)", sig);
			stopping = true;
			stop_deadline = time(NULL) + STOP_GRACE;
			if (worker > 0)
				kill(worker, SIGTERM);
		}
		/* reap */
		while (worker > 0 && waitpid(worker, &status, WNOHANG) ==
		    worker) {
			worker = -1;
			if (stopping)
				break;
			if (WIFSIGNALED(status))
				syslog(LOG_ERR, "worker killed by signal %d",
				    WTERMSIG(status));
			else
				syslog(LOG_ERR, "worker exited with status %d",
				    WEXITSTATUS(status));
			if (time(NULL) - started > 60)
				backoff = 1;
			restart_at = time(NULL) + backoff;
			syslog(LOG_ERR, "restarting the worker in %d s "
			    "(the MTA applies its milter default action "
			    "meanwhile)", backoff);
			backoff = backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF :
			    backoff * 2;
		}
		if (stopping) {
			if (worker < 0)
				break;
			if (time(NULL) >= stop_deadline) {
				syslog(LOG_WARNING, "worker still running after "
				    "%d s: killing it", STOP_GRACE);
				kill(worker, SIGKILL);
				waitpid(worker, &status, 0);
				break;
			}
			continue;
		}
		if (worker < 0 && time(NULL) >= restart_at) {
			started = time(NULL);
			worker = start_worker();
		}
	}
	if (o->pidfile != NULL)
		unlink(o->pidfile);
	syslog(LOG_INFO, "stopped");
	return 0;
}

int
cmd_milter(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "config",	required_argument, NULL, 'c' },
		{ "foreground",	no_argument,	   NULL, 'f' },
		{ "user",	required_argument, NULL, 'u' },
		{ "pidfile",	required_argument, NULL, 'p' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "log-stderr",	no_argument,	   NULL, 'L' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct milter_opts o;
	struct st_config cfg;
	struct passwd *pw = NULL;
	char err[300];
	static char *sockspec;	/* libmilter keeps it for the daemon's life */
	const char *upath;
	int ch;
	pid_t pid;

	memset(&o, 0, sizeof(o));
	o.timeout = DEFAULT_TIMEOUT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:fu:p:t:Lh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's': o.sock = optarg; break;
		case 'c': o.config = optarg; break;
		case 'f': o.foreground = true; break;
		case 'u': o.user = optarg; break;
		case 'p': o.pidfile = optarg; break;
		case 'L': o.log_stderr = true; break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > 86400) {
				cli_warn("milter: --timeout: a number of "
				    "seconds from 1 to 86400");
				return EXIT_USAGE;
			}
			o.timeout = (int)v;
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_warn("milter: unexpected argument: %s", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.sock == NULL || !socket_spec_ok(o.sock)) {
		cli_warn("milter: --socket inet:PORT@HOST, inet6:PORT@HOST or "
		    "unix:PATH is required");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.user != NULL && (pw = getpwnam(o.user)) == NULL) {
		cli_warn("milter: --user %s: no such user", o.user);
		return EXIT_USAGE;
	}
	if (!milter_config_load(&cfg, o.config, err, sizeof(err))) {
		cli_warn("milter: %s", err);
		return EXIT_USAGE;
	}
	st_library_init();
	openlog("spamtrace-milter", LOG_PID | LOG_NDELAY |
	    (o.log_stderr ? LOG_PERROR : 0), LOG_MAIL);
	milter_filter_setup(o.config, &cfg);

	if ((sockspec = strdup(o.sock)) == NULL ||
	    smfi_register(*milter_filter_desc()) != MI_SUCCESS ||
	    smfi_setconn(sockspec) != MI_SUCCESS ||
	    smfi_settimeout(o.timeout) != MI_SUCCESS ||
	    smfi_setbacklog(256) != MI_SUCCESS) {
		cli_warn("milter: libmilter setup failed");
		return 1;
	}
	errno = 0;
	if (smfi_opensocket(true) != MI_SUCCESS) {
		cli_warn("milter: cannot listen on %s%s%s", o.sock,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return 1;
	}
	if ((upath = unix_path(o.sock)) != NULL && pw != NULL &&
	    (chown(upath, pw->pw_uid, pw->pw_gid) != 0 ||
	    chmod(upath, 0660) != 0)) {
		cli_warn("milter: %s: cannot give the socket to %s: %s", upath,
		    o.user, strerror(errno));
		return 1;
	}

	if (!o.foreground) {
		int fd;

		fflush(NULL);
		if ((pid = fork()) < 0) {
			cli_warn("milter: fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			if (o.pidfile != NULL && !write_pidfile(o.pidfile,
			    pid)) {
				cli_warn("milter: %s: %s", o.pidfile,
				    strerror(errno));
				kill(pid, SIGTERM);
				return 1;
			}
			_exit(0);
		}
		setsid();
		if (chdir("/") != 0)
			_exit(1);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (!o.log_stderr)
				dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	} else if (o.pidfile != NULL && !write_pidfile(o.pidfile, getpid())) {
		cli_warn("milter: %s: %s", o.pidfile, strerror(errno));
		return 1;
	}
	if (pw != NULL && !drop_privileges(pw)) {
		syslog(LOG_ERR, "cannot become user %s: %m", o.user);
		if (o.foreground)
			cli_warn("milter: cannot become user %s: %s", o.user,
			    strerror(errno));
		return 1;
	}
	syslog(LOG_INFO, "listening on %s: dynamic_direct=%s backscatter=%s "
	    "fail_open=%s timeout=%ds", o.sock,
	    st_milter_action_name(cfg.dynamic_direct),
	    st_milter_action_name(cfg.backscatter),
	    cfg.fail_open ? "yes" : "no", o.timeout);
	return supervise(&o);
}

#endif /* ST_HAVE_MILTER */
