/*
 * core/clock.c: RFC 3339 parsing and formatting without the C library's locale- and
 * timezone-dependent functions (strptime, mktime), so the result never depends on TZ.
 * The civil-date arithmetic is the days-from-civil algorithm over a 400-year era.
 */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Parse "[.fraction](Z|+hh:mm|-hh:mm)" at s[i..len); returns false on any deviation. */
static bool parse_tail(const char *s, size_t len, size_t i, int *frac_us, int *offset_min)
{
	int scale = 100000;

	*frac_us = 0;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			*frac_us += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (i == start || i - start > 9)
			return false;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		*offset_min = 0;
		return true;
	}
	int oh, om;
	if (i + 6 != len || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
	    !digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
		return false;
	*offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
	return true;
}

bool clock_parse_rfc3339(const char *s, size_t len, int64_t *us, int *offset_min)
{
	int y, mo, d, h, mi, sec, frac, off;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return false;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	if (!parse_tail(s, len, 19, &frac, &off))
		return false;
	if (sec == 60) /* a leap second is kept inside its minute: 23:59:60 -> 23:59:59.999999 */
		sec = 59, frac = 999999;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off * 60;
	/* the UTC instant must be in 0001-9999 too: the formatter and PostgreSQL rely on it */
	if (t < days_from_civil(1, 1, 1) * 86400 || t >= days_from_civil(10000, 1, 1) * 86400)
		return false;
	if (us)
		*us = t * 1000000 + frac;
	if (offset_min)
		*offset_min = off;
	return true;
}

void clock_format_rfc3339(int64_t us, char out[static 28])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;

	if (frac < 0)
		frac += 1000000, secs -= 1;
	time_t t = (time_t)secs;
	gmtime_r(&t, &tm);
	char text[96];

	snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	memcpy(out, text, 27);
	out[27] = '\0';
}

int64_t clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
