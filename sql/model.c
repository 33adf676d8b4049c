/* sql/model.c: release functions for the value structs of model.h. */
#include "sql/model.h"

#include <stdlib.h>
#include <string.h>

void event_release(struct event *ev)
{
	if (!ev)
		return;
	free(ev->source);
	free(ev->id);
	free(ev->type);
	free(ev->subject);
	free(ev->predicate);
	free(ev->type_version);
	free(ev->spec_version);
	free(ev->subject_id);
	free(ev->subject_source);
	free(ev->chain_id);
	free(ev->raw);
	memset(ev, 0, sizeof *ev);
}
