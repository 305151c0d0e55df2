/*
 * smtp_send.c - drives the report sender's side of the SMTP client for
 * probe_smtp_data.py: connect, EHLO, AUTH (PLAIN or LOGIN, plaintext
 * allowed for the test), MAIL, RCPT, DATA with a body that needs line-end
 * normalisation and dot-stuffing, QUIT; then prints the final reply codes
 * and the transcript.
 *
 * usage: smtp_send HOST PORT plain|login
 */
#include <stdio.h>
#include <string.h>

#include "spamtrace/smtp.h"

int
main(int argc, char **argv)
{
	static const char body[] = "Subject: test\r\n\r\n.leading dot\n"
	    "bare LF\r\nCRLF\rCR only\n..two dots\n.\nno final newline";
	struct st_smtp_params p;
	struct st_smtp_session *s;
	struct st_smtp_reply r;
	struct st_error err = { 0 };
	size_t i;
	int rc = 0;

	if (argc != 4)
		return 2;
	st_smtp_params_init(&p);
	p.tls = ST_SMTP_TLS_NEVER;
	p.command_timeout_ms = 5000;
	p.helo_name = "sender.example.com";
	if (st_smtp_open(&s, &p, &err) != ST_OK)
		return 1;
	if (st_smtp_connect(s, argv[1], argv[2], &r, &err) != ST_OK)
		rc = 1;
	st_smtp_reply_free(&r);
	if (!rc && (st_smtp_hello(s, NULL, &r, &err) != ST_OK ||
	    r.code != 250))
		rc = 1;
	st_smtp_reply_free(&r);
	if (!rc) {
		st_smtp_auth(s, strcmp(argv[3], "login") == 0 ?
		    ST_SMTP_AUTH_LOGIN : ST_SMTP_AUTH_PLAIN, "user", "secret",
		    true, &r, &err);
		printf("auth %d\n", r.code);
		st_smtp_reply_free(&r);
		st_smtp_mail(s, "sender@example.com", "BODY=8BITMIME", &r,
		    &err);
		printf("mail %d\n", r.code);
		st_smtp_reply_free(&r);
		st_smtp_rcpt(s, "abuse@example.net", NULL, &r, &err);
		printf("rcpt %d\n", r.code);
		st_smtp_reply_free(&r);
		if (st_smtp_data(s, body, sizeof(body) - 1, &r, &err) != ST_OK)
			rc = 1;
		printf("data %d\n", r.code);
		st_smtp_reply_free(&r);
		/* bad input is refused before anything is sent */
		if (st_smtp_rcpt(s, "a>b", NULL, &r, &err) != ST_EINVAL)
			rc = 1;
		st_smtp_reply_free(&r);
		st_smtp_quit(s, &r, &err);
		printf("quit %d\n", r.code);
		st_smtp_reply_free(&r);
	}
	for (i = 0; i < st_smtp_transcript_count(s); i++)
		printf("T %s\n", st_smtp_transcript_line(s, i, NULL));
	if (rc)
		printf("error %s\n", err.msg);
	st_smtp_close(s);
	return rc;
}
