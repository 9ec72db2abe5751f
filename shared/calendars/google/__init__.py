"""Google Calendar: OAuth connect, busy times through freeBusy, booking events written exactly once."""
