/*
 * arf_gmime.c - read a report (.eml) with GMime, an independent MIME
 * parser, and print what it sees as one JSON object:
 *
 *   {"content_type": "multipart/report", "report_type": "feedback-report",
 *    "subject": "decoded", "parts": ["text/plain", ...],
 *    "charset": "...", "text": "first text part, decoded to UTF-8",
 *    "feedback": [["Feedback-Type", "abuse"], ...],
 *    "original": "hex of the third part's decoded bytes"}
 *
 * run_tests.py compares this with Python's email package and with the
 * expected values.  Exit 0 when the file parsed as a message, 1 if not.
 */
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void
json_str(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static GByteArray *
part_bytes(GMimeObject *o)
{
	GByteArray *ba = g_byte_array_new();
	GMimeStream *ms = g_mime_stream_mem_new_with_byte_array(ba);

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(ms), FALSE);
	if (GMIME_IS_PART(o)) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(o));

		if (dw != NULL)
			g_mime_data_wrapper_write_to_stream(dw, ms);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL,
			    ms);
	}
	g_object_unref(ms);
	return ba;
}

/* "Name: value" lines (unfolded) of a feedback-report body. */
static void
print_fields(const char *p, size_t n)
{
	const char *e = p + n;
	bool first = true;

	putchar('[');
	while (p < e) {
		const char *ls = p, *colon, *le;
		GString *v = g_string_new(NULL);

		le = memchr(p, '\n', (size_t)(e - p));
		if (le == NULL)
			le = e;
		p = le < e ? le + 1 : e;
		colon = memchr(ls, ':', (size_t)(le - ls));
		if (colon == NULL || *ls == ' ' || *ls == '\t') {
			g_string_free(v, TRUE);
			continue;
		}
		g_string_append_len(v, colon + 1, le - colon - 1);
		while (p < e && (*p == ' ' || *p == '\t')) {	/* folded */
			const char *ce = memchr(p, '\n', (size_t)(e - p));

			if (ce == NULL)
				ce = e;
			g_string_append_len(v, p, ce - p);
			p = ce < e ? ce + 1 : e;
		}
		g_strstrip(v->str);
		{
			char *q, *w;	/* drop CRs, collapse the folds */

			for (q = w = v->str; *q; q++) {
				if (*q == '\r')
					continue;
				if (*q == '\t')
					*q = ' ';
				if (*q == ' ' && w > v->str && w[-1] == ' ')
					continue;
				*w++ = *q;
			}
			*w = '\0';
		}
		if (!first)
			putchar(',');
		first = false;
		putchar('[');
		json_str(ls, (size_t)(colon - ls));
		putchar(',');
		json_str(v->str, strlen(v->str));
		putchar(']');
		g_string_free(v, TRUE);
	}
	putchar(']');
}

int
main(int argc, char **argv)
{
	GMimeStream *fs;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *top;
	GMimeContentType *ct;
	const char *subj;
	char *mt;
	int i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: arf_gmime FILE.eml\n");
		return 2;
	}
	g_mime_init();
	if ((fs = g_mime_stream_file_open(argv[1], "rb", NULL)) == NULL) {
		perror(argv[1]);
		return 1;
	}
	parser = g_mime_parser_new_with_stream(fs);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		fprintf(stderr, "%s: GMime could not parse it\n", argv[1]);
		return 1;
	}
	top = g_mime_message_get_mime_part(msg);
	ct = g_mime_object_get_content_type(top);
	mt = g_mime_content_type_get_mime_type(ct);
	printf("{\"content_type\":");
	json_str(mt, strlen(mt));
	g_free(mt);
	printf(",\"report_type\":");
	{
		const char *rt = g_mime_content_type_get_parameter(ct,
		    "report-type");

		if (rt)
			json_str(rt, strlen(rt));
		else
			printf("null");
	}
	subj = g_mime_message_get_subject(msg);
	printf(",\"subject\":");
	json_str(subj ? subj : "", subj ? strlen(subj) : 0);
	{
		InternetAddressList *to = g_mime_message_get_to(msg);
		int k;

		printf(",\"to\":[");
		for (k = 0; to && k < internet_address_list_length(to); k++) {
			InternetAddress *ia =
			    internet_address_list_get_address(to, k);

			if (k)
				putchar(',');
			if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
				const char *a = internet_address_mailbox_get_addr(
				    INTERNET_ADDRESS_MAILBOX(ia));

				json_str(a, strlen(a));
			} else {
				printf("\"\"");
			}
		}
		putchar(']');
	}
	printf(",\"parts\":[");
	if (GMIME_IS_MULTIPART(top)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(top));
		for (i = 0; i < n; i++) {
			GMimeObject *p = g_mime_multipart_get_part(
			    GMIME_MULTIPART(top), i);
			char *pt = g_mime_content_type_get_mime_type(
			    g_mime_object_get_content_type(p));

			if (i)
				putchar(',');
			json_str(pt, strlen(pt));
			g_free(pt);
		}
	} else {
		n = 0;
	}
	putchar(']');

	/* the first text part (the letter, or the human-readable part),
	 * converted to UTF-8 by GMime */
	{
		GMimeObject *tp = GMIME_IS_MULTIPART(top) && n > 0 ?
		    g_mime_multipart_get_part(GMIME_MULTIPART(top), 0) : top;

		if (GMIME_IS_TEXT_PART(tp)) {
			char *txt = g_mime_text_part_get_text(
			    GMIME_TEXT_PART(tp));
			const char *cs = g_mime_object_get_content_type_parameter(
			    tp, "charset");

			printf(",\"charset\":");
			json_str(cs ? cs : "", cs ? strlen(cs) : 0);
			printf(",\"text\":");
			json_str(txt ? txt : "", txt ? strlen(txt) : 0);
			g_free(txt);
		}
	}
	if (GMIME_IS_MULTIPART(top) && n >= 3) {
		GMimeObject *fb = g_mime_multipart_get_part(
		    GMIME_MULTIPART(top), 1);
		GMimeObject *orig = g_mime_multipart_get_part(
		    GMIME_MULTIPART(top), 2);
		GByteArray *ba = part_bytes(fb);
		guint k;

		printf(",\"feedback\":");
		if (GMIME_IS_MESSAGE_PART(fb)) {
			/* GMime read the fields as a message's headers */
			GMimeMessage *m = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(fb));
			GMimeHeaderList *hl = g_mime_object_get_header_list(
			    GMIME_OBJECT(m));
			int h;

			putchar('[');
			for (h = 0; h < g_mime_header_list_get_count(hl); h++) {
				GMimeHeader *hd = g_mime_header_list_get_header_at(
				    hl, h);
				const char *nm = g_mime_header_get_name(hd);
				char *v = g_strdup(g_mime_header_get_value(hd));

				g_strstrip(v);
				if (h)
					putchar(',');
				putchar('[');
				json_str(nm, strlen(nm));
				putchar(',');
				json_str(v, strlen(v));
				putchar(']');
				g_free(v);
			}
			putchar(']');
		} else {
			print_fields((const char *)ba->data, ba->len);
		}
		g_byte_array_free(ba, TRUE);
		ba = part_bytes(orig);
		printf(",\"original\":\"");
		for (k = 0; k < ba->len; k++)
			printf("%02x", ba->data[k]);
		putchar('"');
		g_byte_array_free(ba, TRUE);
	}
	printf("}\n");
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(fs);
	return 0;
}
