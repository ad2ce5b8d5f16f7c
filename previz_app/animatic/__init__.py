"""Rough animatics: the timeline, camera moves on stills, sound, captions, video
encode and editorial timelines (OTIO, CMX3600 EDL, FCP7 XML). No Qt."""
