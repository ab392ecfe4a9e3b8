// The organizer's workspace: the plan editor, events, links and the audit log.
